using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core.Telemetry;

/// <summary>
/// The gauges read from the database (instance states, outbox, webhook backlog, campaign recipients, health scores):
/// one snapshot every <see cref="TelemetryOptions.GaugeInterval"/>, whose measurements the gauges' callbacks hand out
/// as they are, so a scrape never waits on the database and many scrapers cost no more than one. Every node reads the
/// same database-wide figures (README: aggregate them with <c>max</c>).
/// </summary>
public sealed class DatabaseGauges : BackgroundService
{
    private readonly IDbContextFactory<WapBridgeDbContext> _dbFactory;
    private readonly IOptions<TelemetryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DatabaseGauges> _logger;
    private volatile GaugeReadings _readings = GaugeReadings.Empty;

    public DatabaseGauges(IMeterFactory meterFactory, IDbContextFactory<WapBridgeDbContext> dbFactory, IOptions<TelemetryOptions> options,
        TimeProvider time, ILogger<DatabaseGauges> logger)
    {
        _dbFactory = dbFactory;
        _options = options;
        _time = time;
        _logger = logger;
        var meter = meterFactory.Create(WapBridgeTelemetry.Name);
        meter.CreateObservableGauge("wapbridge.instances.state", () => _readings.InstanceStates, "{instance}",
            "1 for the state each instance is in, 0 for the others");
        meter.CreateObservableGauge("wapbridge.outbox.depth", () => _readings.OutboxDepth, "{message}",
            "Outbound messages queued or being sent, per instance");
        meter.CreateObservableGauge("wapbridge.outbox.oldest_age", () => _readings.OutboxOldestAge, "s",
            "Age of the oldest queued or sending outbound message, per instance (0 when none)");
        meter.CreateObservableGauge("wapbridge.webhooks.backlog", () => _readings.WebhookBacklog, "{delivery}",
            "Webhook deliveries not yet delivered nor dead, per customer");
        meter.CreateObservableGauge("wapbridge.webhooks.oldest_age", () => _readings.WebhookOldestAge, "s",
            "Age of the oldest pending webhook delivery, per customer (0 when none)");
        meter.CreateObservableGauge("wapbridge.campaigns.recipients", () => _readings.CampaignRecipients, "{recipient}",
            "Recipients of each scheduled, running or paused campaign by state");
        meter.CreateObservableGauge("wapbridge.instances.health_score", () => _readings.HealthScores, null,
            "Account health score of each instance (0-100) as last judged");
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Sweeps.RunAsync(RefreshAsync, () => _options.Value.GaugeInterval, _time, _logger, LogLevel.Warning,
            "Reading the metrics' database gauges failed; the gauges keep their last values", stoppingToken);

    /// <summary>Reads every gauge anew; the gauges show the new figures from the next collection on.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var now = _time.GetUtcNow();
        var customers = await db.Customers.AsNoTracking().Select(c => new { c.Id, c.Code }).ToDictionaryAsync(c => c.Id, c => c.Code, ct);
        var instances = await db.Instances.AsNoTracking()
            .Select(i => new { i.Id, i.Code, i.CustomerId, i.Engine, i.State, i.HealthScore })
            .ToListAsync(ct);

        // Grouped counts with the lowest id of each group, whose row then gives the oldest time: SQLite stores
        // DateTimeOffset as a number it cannot aggregate, and ids grow with the time rows were written.
        var outbox = await db.Messages.AsNoTracking()
            .Where(m => m.Direction == Message.Outbound && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending))
            .GroupBy(m => m.InstanceId)
            .Select(g => new { InstanceId = g.Key, Depth = g.Count(), OldestId = g.Min(m => m.Id) })
            .ToListAsync(ct);
        var oldestMessageIds = outbox.Select(o => o.OldestId).ToList();
        var oldestMessages = await db.Messages.AsNoTracking()
            .Where(m => oldestMessageIds.Contains(m.Id))
            .Select(m => new { m.InstanceId, m.CreatedAt })
            .ToDictionaryAsync(m => m.InstanceId, m => m.CreatedAt, ct);
        var outboxByInstance = outbox.ToDictionary(o => o.InstanceId, o => o.Depth);

        var backlog = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.State == DeliveryState.Pending)
            .GroupBy(d => d.CustomerId)
            .Select(g => new { CustomerId = g.Key, Count = g.Count(), OldestId = g.Min(d => d.Id) })
            .ToListAsync(ct);
        var oldestDeliveryIds = backlog.Select(b => b.OldestId).ToList();
        var oldestDeliveries = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => oldestDeliveryIds.Contains(d.Id))
            .Select(d => new { d.CustomerId, d.CreatedAt })
            .ToDictionaryAsync(d => d.CustomerId, d => d.CreatedAt, ct);
        var backlogByCustomer = backlog.ToDictionary(b => b.CustomerId, b => b.Count);

        // The campaign's own counters (those campaign_status answers), not a count over its recipients.
        var campaigns = await db.Campaigns.AsNoTracking()
            .Where(c => c.State == CampaignState.Scheduled || c.State == CampaignState.Running || c.State == CampaignState.Paused)
            .Select(c => new { c.CustomerId, c.Code, c.Pending, c.Sent, c.Delivered, c.Read, c.Failed, c.Invalid, c.Duplicates, c.Skipped })
            .ToListAsync(ct);

        var states = Enum.GetValues<InstanceState>();
        var instanceStates = new List<Measurement<int>>(instances.Count * states.Length);
        var outboxDepth = new List<Measurement<int>>(instances.Count);
        var outboxAge = new List<Measurement<double>>(instances.Count);
        var healthScores = new List<Measurement<int>>(instances.Count);
        foreach (var i in instances)
        {
            if (!customers.TryGetValue(i.CustomerId, out var customer))
                continue;
            var customerTag = Tag("customer", customer);
            var instanceTag = Tag("instance_id", i.Code);
            // Every state, the others at 0: a series left at 1 by the state before would read as two states at once.
            foreach (var state in states)
                instanceStates.Add(new Measurement<int>(state == i.State ? 1 : 0, customerTag, instanceTag, Tag("engine", i.Engine), Tag("state", state.ToWire())));
            outboxDepth.Add(new Measurement<int>(outboxByInstance.GetValueOrDefault(i.Id), customerTag, instanceTag));
            outboxAge.Add(new Measurement<double>(AgeSeconds(now, oldestMessages.TryGetValue(i.Id, out var oldest) ? oldest : null), customerTag, instanceTag));
            if (i.HealthScore is { } score)
                healthScores.Add(new Measurement<int>(score, customerTag, instanceTag));
        }

        var webhookBacklog = new List<Measurement<int>>(customers.Count);
        var webhookAge = new List<Measurement<double>>(customers.Count);
        foreach (var (id, code) in customers)
        {
            webhookBacklog.Add(new Measurement<int>(backlogByCustomer.GetValueOrDefault(id), Tag("customer", code)));
            webhookAge.Add(new Measurement<double>(AgeSeconds(now, oldestDeliveries.TryGetValue(id, out var oldest) ? oldest : null), Tag("customer", code)));
        }

        var recipients = new List<Measurement<int>>(campaigns.Count * 8);
        foreach (var c in campaigns)
        {
            if (!customers.TryGetValue(c.CustomerId, out var customer))
                continue;
            // Counters are cumulative along the forward path (a read recipient counts as sent and delivered too); the
            // gauge gives each recipient its current state only. Pending includes the one being sent.
            (RecipientState State, int Count)[] counts =
            [
                (RecipientState.Pending, c.Pending),
                (RecipientState.Sent, c.Sent - c.Delivered),
                (RecipientState.Delivered, c.Delivered - c.Read),
                (RecipientState.Read, c.Read),
                (RecipientState.Failed, c.Failed),
                (RecipientState.Invalid, c.Invalid),
                (RecipientState.Duplicate, c.Duplicates),
                (RecipientState.Skipped, c.Skipped),
            ];
            foreach (var (state, count) in counts)
                recipients.Add(new Measurement<int>(count, Tag("customer", customer), Tag("campaign", c.Code), Tag("state", state.ToWire())));
        }

        _readings = new GaugeReadings([.. instanceStates], [.. outboxDepth], [.. outboxAge], [.. webhookBacklog], [.. webhookAge], [.. recipients], [.. healthScores]);
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    private static double AgeSeconds(DateTimeOffset now, DateTimeOffset? oldest) =>
        oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0;

    private sealed record GaugeReadings(
        Measurement<int>[] InstanceStates,
        Measurement<int>[] OutboxDepth,
        Measurement<double>[] OutboxOldestAge,
        Measurement<int>[] WebhookBacklog,
        Measurement<double>[] WebhookOldestAge,
        Measurement<int>[] CampaignRecipients,
        Measurement<int>[] HealthScores)
    {
        public static readonly GaugeReadings Empty = new([], [], [], [], [], [], []);
    }
}
