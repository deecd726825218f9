using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// Drains the webhook outbox: POSTs each due delivery with the secret and Standard Webhooks headers,
/// retries on the backoff schedule (or the receiver's Retry-After), disables an endpoint that answers
/// 410, and marks a delivery dead once the schedule is spent. State lives in the rows, so a restart resumes.
/// </summary>
/// <remarks>
/// Fair between tenants: each endpoint gets a lane on this node holding a few waves of its deliveries, of which at most
/// <see cref="WebhookOptions.MaxConcurrencyPerEndpoint"/> are attempted at once; free slots go round-robin to
/// customers, then to their endpoints. A slow or hanging receiver so delays only its own deliveries. Claims take
/// many rows with one statement and outcomes are committed in groups, so the database syncs a few times per
/// hundreds of deliveries.
/// </remarks>
public sealed class WebhookDispatcher : BackgroundService
{
    // A receiver is quick when it answers within this share of the attempt timeout, so this many waves of its attempts
    // fit in one timeout: its lane can hold dozens of rows (one claim for all of them) on a lease of a few timeouts.
    private const int BatchWaves = 8;

    // A quick receiver may get this many times its share of slots while at least half the node's slots are free:
    // one busy endpoint is delivered to as fast as before, and a receiver that stops answering holds a quarter of the
    // node at most, until its first timeouts show it slow.
    private const int BurstFactor = 4;

    // How long a receiver counts as quick after its last quick answer, across its lane coming and going.
    private static readonly TimeSpan QuickMemory = TimeSpan.FromMinutes(1);

    // Claims read due rows in pages of (id, endpoint) from where the last claim stopped, a few pages per claim, so
    // rows of lanes that are full (a hanging receiver's backlog) cost a bounded read and never hide the rows behind them.
    private const int ClaimPage = 256, ClaimPagesPerCycle = 8;

    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    // Between claims that read only rows of full lanes (a hanging receiver's backlog) on their way to the rest.
    private static readonly TimeSpan FullLanesPause = TimeSpan.FromMilliseconds(100);

    // Outcomes are committed together: after one commit, those of this long are gathered for the next.
    private static readonly TimeSpan RecordCoalesce = TimeSpan.FromMilliseconds(200);

    private const string SecretUnreadable = "The stored webhook secret can no longer be decrypted (the server's keys changed); set the secret again.";

    private readonly IDbContextFactory<WapBridgeDbContext> _dbFactory;
    private readonly IDataProtector _secrets;
    private readonly WebhookSignal _signal;
    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly WebhookSender _sender;
    private readonly WebhookOutbox? _outbox;
    private readonly GatewayMetrics _metrics;

    // Lanes, slots and finished attempts, all under _gate.
    private readonly Lock _gate = new();
    private readonly Dictionary<int, WebhookLane> _lanes = [];
    private readonly Dictionary<int, long> _customerTurns = [];
    private readonly Dictionary<int, DateTimeOffset> _quickAt = [];
    private readonly List<Finished> _finished = [];
    private long _turn;
    private int _inFlight, _waiting;
    private TaskCompletionSource? _drained;

    private readonly AsyncSignal _outcomes = new();
    private CancellationToken _attemptToken;

    // Where the next claim reads on; null: from the oldest due row.
    private (DateTimeOffset At, long Id)? _cursor;

    public WebhookDispatcher(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtectionProvider dataProtection, WebhookSignal signal,
        IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcher> logger, OutboundConnector connector, GatewayMetrics metrics,
        WebhookOutbox? outbox = null)
    {
        _outbox = outbox;
        _metrics = metrics;
        _dbFactory = dbFactory;
        _secrets = WebhookSettingsService.SecretProtector(dataProtection);
        _signal = signal;
        _options = options;
        _time = time;
        _logger = logger;
        _sender = new WebhookSender(options, time, logger, connector);
    }

    private int Slots => Math.Max(1, _options.Value.MaxConcurrency);
    private int SlotsPerEndpoint => Math.Max(1, Math.Min(Slots, _options.Value.MaxConcurrencyPerEndpoint));

    // Rows held on this node: one waiting behind each slot. Lanes below their share may take as many again, so an
    // endpoint gets its first deliveries at once however much quick receivers hold.
    private int NodeCapacity => Slots * 2;

    /// <summary>How many of its endpoint's deliveries a lane may hold: all the node's room while its receiver answers quickly, else its share.</summary>
    private int LaneCapacity(bool quick) => quick ? Math.Max(SlotsPerEndpoint, NodeCapacity) : SlotsPerEndpoint;

    /// <summary>How many attempt timeouts a lane needs for what it holds, when each attempt takes as long as its receiver is known to.</summary>
    private int Waves(int held, bool quick)
    {
        var perTimeout = SlotsPerEndpoint * (quick ? BatchWaves : 1);
        return Math.Max(1, (held + perTimeout - 1) / perTimeout);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _attemptToken = stoppingToken;
        using var recorderStop = new CancellationTokenSource();
        var recorder = RecordLoopAsync(recorderStop.Token);
        try
        {
            await ClaimLoopAsync(stoppingToken);
        }
        finally
        {
            // Even when stopping: what was attempted is recorded, and what was not is given back at once
            // instead of waiting for its lease to run out.
            await WhenDrainedAsync();
            await recorderStop.CancelAsync();
            await recorder;
            await FlushOutcomesAsync();
        }
    }

    private async Task ClaimLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var (taken, more) = await ClaimAsync(ct);
                if (!more)
                    await _signal.WaitAsync(IdlePoll, _time, ct);
                else if (taken == 0)
                    await Task.Delay(FullLanesPause, _time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Claiming webhook deliveries failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task RecordLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _outcomes.WaitAsync(IdlePoll, _time, ct);
                if (await FlushOutcomesAsync() > 0)
                    await Task.Delay(RecordCoalesce, _time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Recording webhook attempts failed; their deliveries are retried once their lease ends");
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Attempts the deliveries due now that this node can take, fairly across endpoints, waits for them and records
    /// their outcomes; answers how many. For tests and tools: the hosted loop does the same continuously.
    /// </summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        _attemptToken = ct;
        var (taken, _) = await ClaimAsync(ct);
        await WhenDrainedAsync();
        await FlushOutcomesAsync();
        return taken;
    }

    /// <summary>
    /// A due time that marks a delivery as held by a caller about to attempt it itself (a replay, "send test"): the loop
    /// leaves it alone until then, and should that caller die, it is retried after. Whole seconds, so that it compares
    /// equal after a round trip through any database.
    /// </summary>
    public static DateTimeOffset HoldForAttempt(DateTimeOffset now) =>
        new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero) + TimeSpan.FromMinutes(5);

    /// <summary>
    /// One attempt of one delivery, whatever its schedule says (used for replays and "send test"), if it is due or
    /// <paramref name="heldUntil"/> is the hold the caller put on it; null when someone else has it.
    /// </summary>
    public async Task<AttemptResult?> AttemptAsync(long deliveryId, CancellationToken ct, DateTimeOffset? heldUntil = null)
    {
        var now = _time.GetUtcNow();
        WebhookDelivery delivery;
        WebhookEndpoint? endpoint;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            // Claim: push the next attempt past this one's timeout, so another loop or node does not take it meanwhile.
            var lease = now + _options.Value.AttemptTimeout * 2;
            if (await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.State == DeliveryState.Pending && (d.NextAttemptAt <= now || d.NextAttemptAt == heldUntil))
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), ct) == 0)
                return null;
            delivery = await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId, ct);
            endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == delivery.EndpointId, ct);
        }
        var lane = new WebhookLane(delivery.EndpointId, delivery.CustomerId) { Endpoint = endpoint is null ? null : ClaimedEndpoint.Read(null, endpoint, _secrets) };
        AttemptOutcome? outcome = null;
        try
        {
            outcome = await AttemptGuardedAsync(delivery, lane.Endpoint, ct);
        }
        finally
        {
            await RecordAsync([new Finished(delivery, lane, outcome)]);
        }
        return outcome?.Attempt;
    }

    /// <summary>An attempt that ended (or never started: no outcome), waiting to be recorded.</summary>
    private sealed record Finished(WebhookDelivery Delivery, WebhookLane Lane, AttemptOutcome? Outcome);

    private sealed record DueRow(long Id, int EndpointId, DateTimeOffset At);

    /// <summary>
    /// Claims due deliveries for lanes with room, reading on from where the last claim stopped, until the node's room is
    /// filled; when it is full already, one page for lanes below their share. Answers how many were taken and whether
    /// due rows are left unread that some lane might take.
    /// </summary>
    private async Task<(int Taken, bool More)> ClaimAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var hardCapacity = NodeCapacity * 2;
        Dictionary<int, (int Held, bool Quick)> lanes;
        int held;
        lock (_gate)
        {
            held = _inFlight + _waiting;
            lanes = _lanes.Values.ToDictionary(l => l.EndpointId, l => (l.Held, l.Quick));
            foreach (var (endpointId, quickAt) in _quickAt)
                if (now - quickAt < QuickMemory)
                    lanes.TryAdd(endpointId, (0, true));
        }
        if (held >= hardCapacity)
            return (0, false);
        var startedFull = held >= NodeCapacity;

        var taken = new List<long>();
        var takenBy = new HashSet<int>();
        var (more, filled) = (true, false);
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var fromStart = _cursor is null;
        for (var page = 0; page < (startedFull ? 1 : ClaimPagesPerCycle) && more && !filled; page++)
        {
            var due = db.WebhookDeliveries.AsNoTracking().Where(d => d.State == DeliveryState.Pending && d.NextAttemptAt <= now);
            if (_cursor is { } after)
                due = due.Where(d => d.NextAttemptAt >= after.At && (d.NextAttemptAt > after.At || d.Id > after.Id));
            var rows = await due.OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id).Take(ClaimPage)
                .Select(d => new DueRow(d.Id, d.EndpointId, d.NextAttemptAt)).ToListAsync(ct);
            foreach (var row in rows)
            {
                _cursor = (row.At, row.Id);
                if (taken.Contains(row.Id))
                    continue;
                var (laneHeld, quick) = lanes.GetValueOrDefault(row.EndpointId);
                if (laneHeld >= SlotsPerEndpoint && (laneHeld >= LaneCapacity(quick) || held >= NodeCapacity))
                    continue;
                lanes[row.EndpointId] = (laneHeld + 1, quick);
                held++;
                taken.Add(row.Id);
                takenBy.Add(row.EndpointId);
                if (held == hardCapacity || (!startedFull && held == NodeCapacity))
                {
                    filled = true;
                    break;
                }
            }
            if (rows.Count < ClaimPage && !filled)
            {
                // The end of what is due: the next read starts from the oldest again (once per claim).
                _cursor = null;
                more = !fromStart;
                fromStart = true;
            }
        }
        more &= !filled && !startedFull;
        if (taken.Count == 0)
            return (0, more);

        // Long enough for the fullest lane to get through what it holds, plus one timeout for waiting on the node's slots.
        // Should a quick receiver turn slow, its lane gives back what it cannot attempt in time (see RunAttemptAsync).
        var waves = takenBy.Max(e => Waves(lanes[e].Held, lanes[e].Quick));
        var lease = now + _options.Value.AttemptTimeout * (waves + 1);
        await db.WebhookDeliveries.Where(d => taken.Contains(d.Id) && d.State == DeliveryState.Pending && d.NextAttemptAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), ct);
        // Someone else (a replay, another node) may have taken some between the read and the claim: keep only ours.
        var ours = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => taken.Contains(d.Id) && d.State == DeliveryState.Pending && d.NextAttemptAt == lease).OrderBy(d => d.Id).ToListAsync(ct);
        foreach (var d in ours)
            d.NextAttemptAt = lease;

        // Read with every claim, so settings saved meanwhile reach deliveries already held here.
        var endpointIds = ours.Select(d => d.EndpointId).Distinct().ToList();
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(e => endpointIds.Contains(e.Id)).ToDictionaryAsync(e => e.Id, ct);
        lock (_gate)
        {
            foreach (var d in ours)
            {
                if (!_lanes.TryGetValue(d.EndpointId, out var lane))
                    _lanes[d.EndpointId] = lane = new WebhookLane(d.EndpointId, d.CustomerId) { Quick = lanes[d.EndpointId].Quick };
                lane.Waiting.Enqueue(d);
                _waiting++;
            }
            foreach (var endpointId in endpointIds)
                _lanes[endpointId].Endpoint = endpoints.TryGetValue(endpointId, out var endpoint) ? ClaimedEndpoint.Read(_lanes[endpointId].Endpoint, endpoint, _secrets) : null;
        }
        Pump();
        return (ours.Count, more);
    }

    /// <summary>
    /// Starts waiting deliveries while slots are free: the customer served longest ago first, then its endpoint served
    /// longest ago; past its share only a quick receiver, and only while half the node's slots are free.
    /// </summary>
    private void Pump()
    {
        List<(WebhookDelivery Delivery, WebhookLane Lane)> starts = [];
        lock (_gate)
        {
            var perEndpoint = SlotsPerEndpoint;
            var burst = Math.Min(Slots, perEndpoint * BurstFactor);
            while (_inFlight < Slots)
            {
                WebhookLane? next = null;
                foreach (var lane in _lanes.Values)
                    if (lane.Waiting.Count > 0
                        && (lane.InFlight < perEndpoint || (lane.Quick && lane.InFlight < burst && _inFlight < Slots / 2))
                        && (next is null || Before(lane, next)))
                        next = lane;
                if (next is null)
                    break;
                var delivery = next.Waiting.Dequeue();
                _waiting--;
                next.InFlight++;
                _inFlight++;
                next.Turn = _customerTurns[next.CustomerId] = ++_turn;
                starts.Add((delivery, next));
            }
            if (_inFlight == 0 && _waiting == 0)
            {
                _drained?.TrySetResult();
                _drained = null;
            }
        }
        foreach (var (delivery, lane) in starts)
            _ = RunAttemptAsync(delivery, lane);
    }

    private bool Before(WebhookLane a, WebhookLane b)
    {
        var (turnA, turnB) = (_customerTurns.GetValueOrDefault(a.CustomerId), _customerTurns.GetValueOrDefault(b.CustomerId));
        return turnA != turnB ? turnA < turnB : a.Turn < b.Turn;
    }

    private async Task RunAttemptAsync(WebhookDelivery delivery, WebhookLane lane)
    {
        var token = _attemptToken;
        AttemptOutcome? outcome = null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            // An attempt that could outlast its lease might overlap another node's: it is given back instead.
            if (!token.IsCancellationRequested && delivery.NextAttemptAt - _time.GetUtcNow() >= _options.Value.AttemptTimeout)
                outcome = await AttemptGuardedAsync(delivery, lane.Endpoint, token);
        }
        finally
        {
            bool hungry;
            lock (_gate)
            {
                lane.InFlight--;
                _inFlight--;
                lane.Unrecorded++;
                _finished.Add(new Finished(delivery, lane, outcome));
                if (outcome is { Posted: true })
                {
                    var wasQuick = lane.Quick;
                    lane.Quick = Stopwatch.GetElapsedTime(started) < _options.Value.AttemptTimeout / BatchWaves;
                    if (lane.Quick)
                        _quickAt[lane.EndpointId] = outcome.At;
                    else
                        _quickAt.Remove(lane.EndpointId);
                    if (wasQuick && !lane.Quick)
                        GiveBackExcess(lane);
                }
                // Claims are worth it when half the node's room is free again, or a lane has room for its share.
                hungry = lane.Held == 0 || !lane.Quick || _inFlight + _waiting == NodeCapacity / 2;
            }
            _outcomes.Wake();
            if (hungry)
                _signal.Wake();
            Pump();
        }
    }

    /// <summary>
    /// A receiver that turned slow would keep what its lane holds for many timeouts, past the lease: the lane keeps one
    /// wave and gives the rest back to be due at once, for this node or another to claim again.
    /// </summary>
    private void GiveBackExcess(WebhookLane lane)
    {
        var keep = Math.Max(0, LaneCapacity(quick: false) - lane.InFlight);
        if (lane.Waiting.Count <= keep)
            return;
        // Queue order is claim order: the ones claimed last go back.
        var waiting = lane.Waiting.ToList();
        lane.Waiting.Clear();
        foreach (var delivery in waiting.Take(keep))
            lane.Waiting.Enqueue(delivery);
        foreach (var delivery in waiting.Skip(keep))
        {
            _finished.Add(new Finished(delivery, lane, null));
            lane.Unrecorded++;
            _waiting--;
        }
    }

    private Task WhenDrainedAsync()
    {
        lock (_gate)
        {
            if (_inFlight == 0 && _waiting == 0)
                return Task.CompletedTask;
            return (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>Commits the attempts that ended so far in one transaction; answers how many.</summary>
    private async Task<int> FlushOutcomesAsync()
    {
        List<Finished> batch;
        lock (_gate)
        {
            if (_finished.Count == 0)
                return 0;
            batch = [.. _finished];
            _finished.Clear();
        }
        try
        {
            await RecordAsync(batch);
        }
        finally
        {
            lock (_gate)
            {
                foreach (var finished in batch)
                    finished.Lane.Unrecorded--;
                var forgotten = _time.GetUtcNow() - QuickMemory;
                foreach (var endpointId in _quickAt.Where(q => q.Value < forgotten).Select(q => q.Key).ToList())
                    _quickAt.Remove(endpointId);
                foreach (var lane in batch.Select(f => f.Lane).Distinct().Where(l => l.Held == 0 && l.Unrecorded == 0).ToList())
                {
                    _lanes.Remove(lane.EndpointId);
                    if (!_lanes.Values.Any(l => l.CustomerId == lane.CustomerId))
                        _customerTurns.Remove(lane.CustomerId);
                }
            }
        }
        return batch.Count;
    }

    private async Task<AttemptOutcome?> AttemptGuardedAsync(WebhookDelivery delivery, ClaimedEndpoint? claimed, CancellationToken ct)
    {
        // Each attempt continues the trace of what caused the delivery; the POST carries it on (traceparent header).
        using var activity = WapBridgeTelemetry.StartFrom(TraceNames.WebhookDeliver, delivery.TraceParent);
        activity?.SetTag(TraceNames.DeliveryTag, delivery.Id);
        activity?.SetTag(TraceNames.EventTag, delivery.EventType);
        activity?.SetTag(TraceNames.AttemptTag, delivery.Attempts + 1);
        try
        {
            var outcome = await AttemptClaimedAsync(delivery, claimed, ct);
            if (outcome.Attempt.StatusCode is { } status)
                activity?.SetTag(TraceNames.StatusCodeTag, status);
            activity.SetOutcome(outcome.Attempt.Delivered ? "delivered" : outcome.Posted ? "failed" : "not_attempted", failed: !outcome.Attempt.Delivered);
            return outcome;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            activity.SetOutcome("stopped");
            return null;
        }
        catch (Exception e)
        {
            // Only the type: the message could quote the stored URL or secret.
            _logger.LogWarning("Webhook delivery {DeliveryId} of customer {CustomerId} failed unexpectedly ({ErrorType}); it is retried on its schedule",
                delivery.Id, delivery.CustomerId, e.GetType().Name);
            activity.SetOutcome("failed", e.GetType().Name, failed: true);
            return new AttemptOutcome(new AttemptResult(false, null, null, WebhookSender.PreparationFailed), null, _time.GetUtcNow(), Posted: true);
        }
    }

    private async Task<AttemptOutcome> AttemptClaimedAsync(WebhookDelivery delivery, ClaimedEndpoint? claimed, CancellationToken ct)
    {
        if (claimed is null || !claimed.Endpoint.Enabled || claimed.GoneAt is not null)
        {
            var error = claimed is null ? "The webhook endpoint was removed."
                : claimed.GoneAt is { } gone ? $"The webhook endpoint is disabled: The receiver answered 410 Gone at {gone:u}; save the webhook settings again to re-enable it."
                : $"The webhook endpoint is disabled: {claimed.Endpoint.DisabledReason}";
            return new AttemptOutcome(new AttemptResult(false, null, null, error), null, _time.GetUtcNow(), Posted: false);
        }
        var (attempt, retryAfter) = claimed.SecretUnreadable
            ? (new AttemptResult(false, null, null, SecretUnreadable), null)
            : await _sender.PostAsync(claimed.Endpoint, claimed.Secret, delivery, ct);
        var at = _time.GetUtcNow();
        if (attempt.StatusCode == (int)HttpStatusCode.Gone)
            claimed.GoneAt ??= at;
        return new AttemptOutcome(attempt, retryAfter, at, Posted: true);
    }

    /// <summary>Records outcomes in one transaction; deliveries without one (stopped before their attempt) are due again now.</summary>
    private async Task RecordAsync(IReadOnlyList<Finished> batch)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        var release = _time.GetUtcNow();
        var disabled = new HashSet<int>();
        var customers = new HashSet<int>();
        foreach (var (delivery, lane, result) in batch)
        {
            db.WebhookDeliveries.Attach(delivery);
            if (result is not { } outcome)
            {
                delivery.NextAttemptAt = release;
                continue;
            }
            outcome.ApplyTo(delivery, _options.Value.EffectiveRetrySchedule);
            if (outcome is { Posted: true, IsGone: false } && delivery.State == DeliveryState.Dead)
                _logger.LogWarning("Webhook delivery {DeliveryId} ({Event}) is dead after {Attempts} attempts", delivery.Id, delivery.EventType, delivery.Attempts);
            if (outcome.IsGone && lane.Endpoint is { } claimed && disabled.Add(claimed.Endpoint.Id))
            {
                var endpoint = claimed.Endpoint;
                db.WebhookEndpoints.Attach(endpoint);
                endpoint.Enabled = false;
                endpoint.DisabledReason = $"The receiver answered 410 Gone at {outcome.At:u}; save the webhook settings again to re-enable it.";
                endpoint.UpdatedAt = outcome.At;
                customers.Add(endpoint.CustomerId);
                _logger.LogWarning("Webhook endpoint {EndpointId} of customer {CustomerId} answered 410 and is disabled", endpoint.Id, endpoint.CustomerId);
            }
        }
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var customerId in customers)
            _outbox?.Invalidate(customerId);
        foreach (var (delivery, _, outcome) in batch)
            if (outcome is not null)
                await _metrics.RecordWebhookAsync(delivery.CustomerId, delivery.EventType, delivery.State switch
                {
                    DeliveryState.Delivered => GatewayMetrics.WebhookDelivered,
                    DeliveryState.Dead => GatewayMetrics.WebhookDead,
                    _ => GatewayMetrics.WebhookFailed,
                });
    }

    public override void Dispose()
    {
        _sender.Dispose();
        base.Dispose();
    }
}
