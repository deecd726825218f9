using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Telemetry;

public static class GatewayMetricsServiceCollectionExtensions
{
    /// <summary>
    /// One <see cref="GatewayMetrics"/> for every feature that records to it (messaging, webhooks, campaigns): each
    /// feature adds it, so it is there whichever of them a host composes.
    /// </summary>
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<GatewayLabels>();
        services.TryAddSingleton<GatewayMetrics>();
        return services;
    }
}

/// <summary>A message row's status change as one statement committed it, with what the row held before.</summary>
public readonly record struct StatusMove(
    string Kind,
    MessageStatus From,
    MessageStatus To,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SentAtBefore,
    DateTimeOffset At,
    string? Reason);

/// <summary>
/// WapBridge's event counters and histograms (meter <see cref="WapBridgeTelemetry.Name"/>): messages accepted, their
/// outcomes, send latency and receipt lag, inbound messages, webhook attempts and campaign sends. Each is recorded by
/// the code that committed the change, once per change, after the commit. Nothing here throws: a metric never fails
/// the work it counts. With metrics off nothing listens, and each call returns before looking up a label.
/// </summary>
public sealed class GatewayMetrics
{
    // Seconds, from a quick send on an idle outbox to a phone that was off for a day.
    private static readonly double[] LatencyBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400];

    public const string Sent = "sent", Delivered = "delivered", Read = "read", Failed = "failed";
    public const string WebhookDelivered = "delivered", WebhookFailed = "failed", WebhookDead = "dead";

    private readonly GatewayLabels _labels;
    private readonly ILogger<GatewayMetrics> _logger;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _outcomes;
    private readonly Histogram<double> _sendLatency;
    private readonly Histogram<double> _receiptLag;
    private readonly Counter<long> _inbound;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Counter<long> _campaignSends;

    public GatewayMetrics(IMeterFactory meterFactory, GatewayLabels labels, ILogger<GatewayMetrics> logger)
    {
        _labels = labels;
        _logger = logger;
        var meter = meterFactory.Create(WapBridgeTelemetry.Name);
        _accepted = meter.CreateCounter<long>("wapbridge.messages.accepted", "{message}",
            "Outbound messages accepted into the outbox, by kind and source (api, erpnext, campaign, dashboard).");
        _outcomes = meter.CreateCounter<long>("wapbridge.messages.outcomes", "{message}",
            "Outbound messages reaching sent, delivered, read or failed (with the stored error code as reason); each message counts once per outcome.");
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        _sendLatency = meter.CreateHistogram("wapbridge.messages.send_latency", "s",
            "From accepting an outbound message to WhatsApp taking it (sent).", advice: advice);
        _receiptLag = meter.CreateHistogram("wapbridge.messages.receipt_lag", "s",
            "From an outbound message being sent to its delivery receipt.", advice: advice);
        _inbound = meter.CreateCounter<long>("wapbridge.messages.inbound", "{message}", "Inbound messages stored, by kind.");
        _webhookDeliveries = meter.CreateCounter<long>("wapbridge.webhooks.deliveries", "{delivery}",
            "Webhook delivery attempts by event and outcome: delivered, failed (retried later) or dead (given up).");
        _campaignSends = meter.CreateCounter<long>("wapbridge.campaigns.sends", "{message}",
            "Campaign recipients settled, by outcome (sent, failed, skipped, cancelled); the rate of sent is the campaign send rate.");
    }

    /// <summary>Whether anything listens to the outcomes, latency or lag: callers skip the reads that only they need otherwise.</summary>
    public bool CountsOutcomes => _outcomes.Enabled || _sendLatency.Enabled || _receiptLag.Enabled;

    /// <summary>Outbound rows just committed: queued ones were accepted, ones stored as failed (rejected input) failed.</summary>
    public async ValueTask RecordAcceptedAsync(IReadOnlyList<Message> committed)
    {
        if (!_accepted.Enabled && !_outcomes.Enabled)
            return;
        try
        {
            foreach (var message in committed)
            {
                if (await _labels.ForInstanceAsync(message.InstanceId) is not { } labels)
                    continue;
                if (message.Status == MessageStatus.Failed)
                    _outcomes.Add(1, OutcomeTags(labels, message.Type, Failed, message.ErrorCode));
                else
                    _accepted.Add(1, new TagList
                    {
                        { "customer", labels.CustomerCode }, { "instance_id", labels.InstanceCode }, { "kind", Kind(message.Type) }, { "source", message.Source },
                    });
            }
        }
        catch (Exception e)
        {
            Skipped(e);
        }
    }

    /// <summary>The outbox moved these messages of one instance from sending to sent at <paramref name="sentAt"/>.</summary>
    public async ValueTask RecordSentAsync(int instanceId, IEnumerable<Message> sent, DateTimeOffset sentAt)
    {
        if (!_outcomes.Enabled && !_sendLatency.Enabled)
            return;
        try
        {
            if (await _labels.ForInstanceAsync(instanceId) is not { } labels)
                return;
            var instanceTags = InstanceTags(labels);
            foreach (var message in sent)
            {
                _outcomes.Add(1, OutcomeTags(labels, message.Type, Sent, null));
                _sendLatency.Record(Seconds(sentAt - message.CreatedAt), instanceTags);
            }
        }
        catch (Exception e)
        {
            Skipped(e);
        }
    }

    /// <summary><paramref name="count"/> messages of one instance and kind failed with <paramref name="reason"/>.</summary>
    public async ValueTask RecordFailedAsync(int instanceId, string kind, string? reason, int count = 1)
    {
        if (!_outcomes.Enabled || count <= 0)
            return;
        try
        {
            if (await _labels.ForInstanceAsync(instanceId) is { } labels)
                _outcomes.Add(count, OutcomeTags(labels, kind, Failed, reason));
        }
        catch (Exception e)
        {
            Skipped(e);
        }
    }

    /// <summary>
    /// Receipts moved these rows of one instance: every outcome a row passes counts (a "read" overtaking "delivered"
    /// counts both), with the send latency when it had not counted as sent and the receipt lag when it is delivered now.
    /// </summary>
    public async ValueTask RecordMovesAsync(int instanceId, IReadOnlyList<StatusMove> moves)
    {
        if (moves.Count == 0 || (!_outcomes.Enabled && !_sendLatency.Enabled && !_receiptLag.Enabled))
            return;
        try
        {
            if (await _labels.ForInstanceAsync(instanceId) is not { } labels)
                return;
            var instanceTags = InstanceTags(labels);
            foreach (var move in moves)
            {
                if (move.To == MessageStatus.Failed)
                {
                    _outcomes.Add(1, OutcomeTags(labels, move.Kind, Failed, move.Reason));
                    continue;
                }
                if (move.From < MessageStatus.Sent && move.To >= MessageStatus.Sent)
                {
                    _outcomes.Add(1, OutcomeTags(labels, move.Kind, Sent, null));
                    _sendLatency.Record(Seconds((move.SentAtBefore ?? move.At) - move.CreatedAt), instanceTags);
                }
                if (move.From < MessageStatus.Delivered && move.To >= MessageStatus.Delivered)
                {
                    _outcomes.Add(1, OutcomeTags(labels, move.Kind, Delivered, null));
                    if (move.SentAtBefore is { } sentAt)
                        _receiptLag.Record(Seconds(move.At - sentAt), instanceTags);
                }
                if (move.From < MessageStatus.Read && move.To >= MessageStatus.Read)
                    _outcomes.Add(1, OutcomeTags(labels, move.Kind, Read, null));
            }
        }
        catch (Exception e)
        {
            Skipped(e);
        }
    }

    /// <summary>A new inbound message was stored (after its commit).</summary>
    public void RecordInbound(string customerCode, string instanceCode, string kind)
    {
        if (_inbound.Enabled)
            _inbound.Add(1, new TagList { { "customer", customerCode }, { "instance_id", instanceCode }, { "kind", Kind(kind) } });
    }

    /// <summary>An attempt of a webhook delivery was recorded: <see cref="WebhookDelivered"/>, <see cref="WebhookFailed"/> or <see cref="WebhookDead"/>.</summary>
    public async ValueTask RecordWebhookAsync(int customerId, string eventType, string outcome)
    {
        if (!_webhookDeliveries.Enabled)
            return;
        try
        {
            if (await _labels.CustomerAsync(customerId) is { } customer)
                _webhookDeliveries.Add(1, new TagList { { "customer", customer }, { "event", eventType }, { "outcome", outcome } });
        }
        catch (Exception e)
        {
            Skipped(e);
        }
    }

    /// <summary><paramref name="count"/> recipients of a campaign on this instance settled with <paramref name="outcome"/>.</summary>
    public async ValueTask RecordCampaignSendsAsync(int instanceId, string outcome, int count)
    {
        if (!_campaignSends.Enabled || count <= 0)
            return;
        try
        {
            if (await _labels.ForInstanceAsync(instanceId) is { } labels)
                _campaignSends.Add(count, new TagList { { "customer", labels.CustomerCode }, { "instance_id", labels.InstanceCode }, { "outcome", outcome } });
        }
        catch (Exception e)
        {
            Skipped(e);
        }
    }

    private static TagList InstanceTags(InstanceLabels labels) => new() { { "customer", labels.CustomerCode }, { "instance_id", labels.InstanceCode } };

    private static TagList OutcomeTags(InstanceLabels labels, string kind, string outcome, string? reason)
    {
        var tags = new TagList { { "customer", labels.CustomerCode }, { "instance_id", labels.InstanceCode }, { "kind", Kind(kind) }, { "outcome", outcome } };
        if (outcome == Failed)
            tags.Add("reason", reason ?? "unknown");
        return tags;
    }

    /// <summary>The message's <c>type</c> (contract §5), but <c>text</c> for a text message, which whatsapp-web.js calls <c>chat</c>.</summary>
    private static string Kind(string type) => type == "chat" ? "text" : type;

    // A clock that moved back (another node's, a receipt's own time) must not record a negative duration.
    private static double Seconds(TimeSpan span) => Math.Max(0, span.TotalSeconds);

    private void Skipped(Exception e) => _logger.LogWarning(e, "A metric could not be recorded");
}
