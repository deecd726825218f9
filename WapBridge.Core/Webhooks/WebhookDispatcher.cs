using System.Net;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

public sealed record AttemptResult(bool Delivered, int? StatusCode, string? Response, string? Error);

/// <summary>
/// Drains the webhook outbox: POSTs each due delivery with the secret and Standard Webhooks headers,
/// retries on the backoff schedule (or the receiver's Retry-After), disables an endpoint that answers
/// 410, and marks a delivery dead once the schedule is spent. State lives in the rows, so a restart resumes.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    // A batch is this many rounds of MaxConcurrency attempts: large enough that the claim and the outcomes
    // cost two commits per few hundred deliveries, small enough that its lease (one attempt timeout per round)
    // stays short if this node dies mid-batch.
    private const int BatchWaves = 8;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private readonly IDbContextFactory<WapBridgeDbContext> _dbFactory;
    private readonly IDataProtector _secrets;
    private readonly WebhookSignal _signal;
    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly HttpClient _http;

    private readonly WebhookOutbox? _outbox;

    public WebhookDispatcher(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtectionProvider dataProtection, WebhookSignal signal,
        IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcher> logger, OutboundConnector connector, WebhookOutbox? outbox = null)
    {
        _outbox = outbox;
        _dbFactory = dbFactory;
        _secrets = WebhookSettingsService.SecretProtector(dataProtection);
        _signal = signal;
        _options = options;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = WebhookTargets.ConnectCallback(() => _options.Value, connector),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(1, options.Value.MaxConcurrency),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("WapBridge-Webhooks/1.0");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await RunDueAsync(stoppingToken) == 0)
                    await _signal.WaitAsync(IdlePoll, _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Webhook dispatch loop failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Attempts the deliveries due now — up to a batch of them, at most <see cref="WebhookOptions.MaxConcurrency"/> at a
    /// time — and answers how many. The batch is claimed with one statement and its outcomes are recorded in one
    /// transaction, so the database syncs twice per batch instead of twice per delivery.
    /// </summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var claimed = await ClaimDueAsync(ct);
        if (claimed.Count == 0)
            return 0;
        var endpoints = await LoadEndpointsAsync(claimed.Select(d => d.EndpointId), ct);
        var outcomes = new Outcome?[claimed.Count];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, claimed.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Value.MaxConcurrency), CancellationToken = ct },
                async (i, token) => outcomes[i] = await AttemptClaimedAsync(claimed[i], endpoints.GetValueOrDefault(claimed[i].EndpointId), token));
        }
        finally
        {
            // Even when stopping: what was attempted is recorded, and what was not is given back at once
            // instead of waiting for its lease to run out.
            await RecordAsync(claimed, outcomes, endpoints);
        }
        return claimed.Count;
    }

    /// <summary>One attempt of one delivery, whatever its schedule says (used for replays and "send test").</summary>
    public async Task<AttemptResult?> AttemptAsync(long deliveryId, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        List<WebhookDelivery> claimed;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            // Claim: push the next attempt past this one's timeout, so another loop or node does not take it meanwhile.
            var lease = now + _options.Value.AttemptTimeout * 2;
            if (await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.State == DeliveryStates.Pending && d.NextAttemptAt <= now)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), ct) == 0)
                return null;
            claimed = await db.WebhookDeliveries.AsNoTracking().Where(d => d.Id == deliveryId).ToListAsync(ct);
        }
        var endpoints = await LoadEndpointsAsync(claimed.Select(d => d.EndpointId), ct);
        var outcomes = new Outcome?[1];
        try
        {
            outcomes[0] = await AttemptClaimedAsync(claimed[0], endpoints.GetValueOrDefault(claimed[0].EndpointId), ct);
        }
        finally
        {
            await RecordAsync(claimed, outcomes, endpoints);
        }
        return outcomes[0]!.Attempt;
    }

    /// <summary>What one attempt came to; <c>Posted</c> is false when the endpoint was gone or disabled and nothing was sent.</summary>
    private sealed record Outcome(AttemptResult Attempt, TimeSpan? RetryAfter, DateTimeOffset At, bool Posted);

    /// <summary>
    /// Claims the next due deliveries: their next attempt is pushed past the time this batch can take (each
    /// attempt is bounded by <see cref="WebhookOptions.AttemptTimeout"/>), so another loop or node does not take them meanwhile.
    /// </summary>
    private async Task<List<WebhookDelivery>> ClaimDueAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var concurrency = Math.Max(1, _options.Value.MaxConcurrency);
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        // Read first (readers never wait for the writer), then claim with one statement.
        var due = await db.WebhookDeliveries.AsNoTracking().Where(d => d.State == DeliveryStates.Pending && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).Take(concurrency * BatchWaves).ToListAsync(ct);
        if (due.Count == 0)
            return due;
        var waves = (due.Count + concurrency - 1) / concurrency;
        var lease = now + _options.Value.AttemptTimeout * (waves + 1);
        var ids = due.Select(d => d.Id).ToList();
        var claimed = await db.WebhookDeliveries.Where(d => ids.Contains(d.Id) && d.State == DeliveryStates.Pending && d.NextAttemptAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), ct);
        if (claimed < due.Count)
        {
            // Someone else (a replay, another node) took some between the read and the claim: keep only ours.
            var ours = (await db.WebhookDeliveries.Where(d => ids.Contains(d.Id) && d.State == DeliveryStates.Pending && d.NextAttemptAt == lease)
                .Select(d => d.Id).ToListAsync(ct)).ToHashSet();
            due.RemoveAll(d => !ours.Contains(d.Id));
        }
        foreach (var d in due)
            d.NextAttemptAt = lease;
        return due;
    }

    private async Task<Dictionary<int, ClaimedEndpoint>> LoadEndpointsAsync(IEnumerable<int> endpointIds, CancellationToken ct)
    {
        var ids = endpointIds.Distinct().ToList();
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(e => ids.Contains(e.Id)).ToListAsync(ct);
        // One secret decryption per endpoint and batch, not per delivery.
        return endpoints.ToDictionary(e => e.Id, e => new ClaimedEndpoint(e, e.SecretProtected is null ? null : _secrets.Unprotect(e.SecretProtected)));
    }

    /// <summary>An endpoint as a batch sees it; <c>GoneAt</c> is set when a delivery of the batch got 410, so the rest are not sent.</summary>
    private sealed class ClaimedEndpoint(WebhookEndpoint endpoint, string? secret)
    {
        public WebhookEndpoint Endpoint { get; } = endpoint;
        public string? Secret { get; } = secret;
        public DateTimeOffset? GoneAt;
    }

    private async Task<Outcome> AttemptClaimedAsync(WebhookDelivery delivery, ClaimedEndpoint? claimed, CancellationToken ct)
    {
        if (claimed is null || !claimed.Endpoint.Enabled || claimed.GoneAt is not null)
        {
            var error = claimed is null ? "The webhook endpoint was removed."
                : claimed.GoneAt is { } gone ? $"The webhook endpoint is disabled: The receiver answered 410 Gone at {gone:u}; save the webhook settings again to re-enable it."
                : $"The webhook endpoint is disabled: {claimed.Endpoint.DisabledReason}";
            return new Outcome(new AttemptResult(false, null, null, error), null, _time.GetUtcNow(), Posted: false);
        }
        var (attempt, retryAfter) = await PostAsync(claimed.Endpoint.Url, claimed.Secret, delivery, ct);
        var at = _time.GetUtcNow();
        if (attempt.StatusCode == (int)HttpStatusCode.Gone)
            claimed.GoneAt ??= at;
        return new Outcome(attempt, retryAfter, at, Posted: true);
    }

    /// <summary>Records a batch's outcomes in one transaction; deliveries without one (stopped before their attempt) are due again now.</summary>
    private async Task RecordAsync(List<WebhookDelivery> claimed, Outcome?[] outcomes, Dictionary<int, ClaimedEndpoint> endpoints)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        var release = _time.GetUtcNow();
        var disabled = new HashSet<int>();
        for (var i = 0; i < claimed.Count; i++)
        {
            var delivery = claimed[i];
            db.WebhookDeliveries.Attach(delivery);
            if (outcomes[i] is not { } outcome)
            {
                delivery.NextAttemptAt = release;
                continue;
            }
            var endpoint = endpoints.GetValueOrDefault(delivery.EndpointId);
            if (Apply(delivery, outcome) && endpoint is not null && disabled.Add(endpoint.Endpoint.Id))
            {
                db.WebhookEndpoints.Attach(endpoint.Endpoint);
                endpoint.Endpoint.Enabled = false;
                endpoint.Endpoint.DisabledReason = $"The receiver answered 410 Gone at {outcome.At:u}; save the webhook settings again to re-enable it.";
                endpoint.Endpoint.UpdatedAt = outcome.At;
                _logger.LogWarning("Webhook endpoint {EndpointId} of customer {CustomerId} answered 410 and is disabled", endpoint.Endpoint.Id, endpoint.Endpoint.CustomerId);
            }
        }
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var customerId in endpoints.Values.Where(e => disabled.Contains(e.Endpoint.Id)).Select(e => e.Endpoint.CustomerId).Distinct())
            _outbox?.Invalidate(customerId);
    }

    /// <summary>Moves a delivery on after an attempt (retry, delivered or dead); true when the receiver answered 410 Gone.</summary>
    private bool Apply(WebhookDelivery delivery, Outcome outcome)
    {
        var attempt = outcome.Attempt;
        if (!outcome.Posted)
        {
            delivery.State = DeliveryStates.Dead;
            delivery.LastError = attempt.Error;
            return false;
        }
        delivery.Attempts++;
        delivery.LastStatusCode = attempt.StatusCode;
        delivery.LastResponse = attempt.Response;
        delivery.LastError = attempt.Error;
        if (attempt.Delivered)
        {
            delivery.State = DeliveryStates.Delivered;
            delivery.DeliveredAt = outcome.At;
        }
        else if (attempt.StatusCode == (int)HttpStatusCode.Gone)
        {
            delivery.State = DeliveryStates.Dead;
            return true;
        }
        else if (NextDelay(delivery.Attempts, outcome.RetryAfter) is { } delay)
        {
            delivery.NextAttemptAt = outcome.At + delay;
        }
        else
        {
            delivery.State = DeliveryStates.Dead;
            _logger.LogWarning("Webhook delivery {DeliveryId} ({Event}) is dead after {Attempts} attempts", delivery.Id, delivery.EventType, delivery.Attempts);
        }
        return false;
    }

    /// <summary>The wait before the next attempt, or null when the schedule is spent.</summary>
    private TimeSpan? NextDelay(int attemptsMade, TimeSpan? retryAfter)
    {
        var schedule = _options.Value.EffectiveRetrySchedule;
        if (attemptsMade > schedule.Length)
            return null;
        if (retryAfter is { } asked)
            return asked < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : asked > TimeSpan.FromHours(24) ? TimeSpan.FromHours(24) : asked;
        // ±20 % jitter, so deliveries that failed together do not all retry together.
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return schedule[attemptsMade - 1] * jitter;
    }

    private async Task<(AttemptResult Attempt, TimeSpan? RetryAfter)> PostAsync(string url, string? secret, WebhookDelivery delivery, CancellationToken ct)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.EventId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (secret is not null)
        {
            request.Headers.Add("X-Wapbridge-Secret", secret);
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, delivery.EventId, timestamp, delivery.Payload));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Value.AttemptTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var text = await ReadExcerptAsync(response, timeout.Token);
            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - _time.GetUtcNow(),
                _ => (TimeSpan?)null,
            };
            var ok = (int)response.StatusCode is >= 200 and < 300;
            return (new AttemptResult(ok, (int)response.StatusCode, text, ok ? null : $"HTTP {(int)response.StatusCode}"), ok ? null : retryAfter);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (new AttemptResult(false, null, null, $"No answer within {_options.Value.AttemptTimeout.TotalSeconds:0} s"), null);
        }
        catch (HttpRequestException e)
        {
            return (new AttemptResult(false, null, null, e.InnerException?.Message is { } inner ? $"{e.Message} ({inner})" : e.Message), null);
        }
    }

    private static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new char[500];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var read = await reader.ReadBlockAsync(buffer, ct);
        return new string(buffer, 0, read);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
