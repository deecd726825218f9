using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

public sealed record AttemptResult(bool Delivered, int? StatusCode, string? Response, string? Error);

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

    private const string PreparationFailed = "The request could not be built from the stored webhook URL or secret; save the webhook settings again.";
    private const string SecretUnreadable = "The stored webhook secret can no longer be decrypted (the server's keys changed); set the secret again.";
    private const string ConnectionFailed = "Connection failed: the receiver could not be reached.";

    private readonly IDbContextFactory<WapBridgeDbContext> _dbFactory;
    private readonly IDataProtector _secrets;
    private readonly WebhookSignal _signal;
    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly HttpClient _http;
    private readonly WebhookOutbox? _outbox;

    // Lanes, slots and finished attempts, all under _gate.
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Lane> _lanes = [];
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
            // Through a proxy the callback would check the proxy's address, not the target's.
            UseProxy = false,
            ConnectCallback = WebhookTargets.ConnectCallback(() => _options.Value, connector),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(1, options.Value.MaxConcurrency),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("WapBridge-Webhooks/1.0");
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

    /// <summary>One attempt of one delivery, whatever its schedule says (used for replays and "send test").</summary>
    public async Task<AttemptResult?> AttemptAsync(long deliveryId, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        WebhookDelivery delivery;
        WebhookEndpoint? endpoint;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            // Claim: push the next attempt past this one's timeout, so another loop or node does not take it meanwhile.
            var lease = now + _options.Value.AttemptTimeout * 2;
            if (await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.State == DeliveryState.Pending && d.NextAttemptAt <= now)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), ct) == 0)
                return null;
            delivery = await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId, ct);
            endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == delivery.EndpointId, ct);
        }
        var lane = new Lane(delivery.EndpointId, delivery.CustomerId) { Endpoint = endpoint is null ? null : Claimed(null, endpoint) };
        Outcome? outcome = null;
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

    /// <summary>What one attempt came to; <c>Posted</c> is false when the endpoint was gone or disabled and nothing was sent.</summary>
    private sealed record Outcome(AttemptResult Attempt, TimeSpan? RetryAfter, DateTimeOffset At, bool Posted);

    /// <summary>An attempt that ended (or never started: no outcome), waiting to be recorded.</summary>
    private sealed record Finished(WebhookDelivery Delivery, Lane Lane, Outcome? Outcome);

    private sealed record DueRow(long Id, int EndpointId, DateTimeOffset At);

    /// <summary>An endpoint as this node last read it; <c>GoneAt</c> is set when one of its deliveries got 410, so the rest are not sent.</summary>
    private sealed class ClaimedEndpoint(WebhookEndpoint endpoint, string? secret, bool secretUnreadable)
    {
        public WebhookEndpoint Endpoint { get; } = endpoint;
        public string? Secret { get; } = secret;
        public bool SecretUnreadable { get; } = secretUnreadable;
        public DateTimeOffset? GoneAt;
    }

    /// <summary>One endpoint's deliveries held on this node, in claim order.</summary>
    private sealed class Lane(int endpointId, int customerId)
    {
        public int EndpointId { get; } = endpointId;
        public int CustomerId { get; } = customerId;
        public ClaimedEndpoint? Endpoint;
        public readonly Queue<WebhookDelivery> Waiting = new();
        public int InFlight;

        /// <summary>Attempts that ended but are not committed yet: the lane, and what it learnt (a 410), outlives them.</summary>
        public int Unrecorded;

        /// <summary>When the lane last got a slot, for round-robin.</summary>
        public long Turn;

        /// <summary>Its receiver answered the last attempt quickly, so the lane may hold many deliveries and burst.</summary>
        public bool Quick;

        public int Held => Waiting.Count + InFlight;
    }

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
                    _lanes[d.EndpointId] = lane = new Lane(d.EndpointId, d.CustomerId) { Quick = lanes[d.EndpointId].Quick };
                lane.Waiting.Enqueue(d);
                _waiting++;
            }
            foreach (var endpointId in endpointIds)
                _lanes[endpointId].Endpoint = endpoints.TryGetValue(endpointId, out var endpoint) ? Claimed(_lanes[endpointId].Endpoint, endpoint) : null;
        }
        Pump();
        return (ours.Count, more);
    }

    /// <summary>The endpoint as just read, keeping the decrypted secret when it did not change and a 410 it answered since its last save.</summary>
    private ClaimedEndpoint Claimed(ClaimedEndpoint? previous, WebhookEndpoint endpoint)
    {
        string? secret = null;
        var unreadable = false;
        if (previous is not null && previous.Endpoint.SecretProtected == endpoint.SecretProtected)
            (secret, unreadable) = (previous.Secret, previous.SecretUnreadable);
        else if (endpoint.SecretProtected is not null)
        {
            try
            {
                secret = _secrets.Unprotect(endpoint.SecretProtected);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                unreadable = true;
            }
        }
        return new ClaimedEndpoint(endpoint, secret, unreadable)
        {
            GoneAt = previous?.GoneAt is { } gone && endpoint.UpdatedAt <= gone ? gone : null,
        };
    }

    /// <summary>
    /// Starts waiting deliveries while slots are free: the customer served longest ago first, then its endpoint served
    /// longest ago; past its share only a quick receiver, and only while half the node's slots are free.
    /// </summary>
    private void Pump()
    {
        List<(WebhookDelivery Delivery, Lane Lane)> starts = [];
        lock (_gate)
        {
            var perEndpoint = SlotsPerEndpoint;
            var burst = Math.Min(Slots, perEndpoint * BurstFactor);
            while (_inFlight < Slots)
            {
                Lane? next = null;
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

    private bool Before(Lane a, Lane b)
    {
        var (turnA, turnB) = (_customerTurns.GetValueOrDefault(a.CustomerId), _customerTurns.GetValueOrDefault(b.CustomerId));
        return turnA != turnB ? turnA < turnB : a.Turn < b.Turn;
    }

    private async Task RunAttemptAsync(WebhookDelivery delivery, Lane lane)
    {
        var token = _attemptToken;
        Outcome? outcome = null;
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
    private void GiveBackExcess(Lane lane)
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

    private async Task<Outcome?> AttemptGuardedAsync(WebhookDelivery delivery, ClaimedEndpoint? claimed, CancellationToken ct)
    {
        try
        {
            return await AttemptClaimedAsync(delivery, claimed, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e)
        {
            // Only the type: the message could quote the stored URL or secret.
            _logger.LogWarning("Webhook delivery {DeliveryId} of customer {CustomerId} failed unexpectedly ({ErrorType}); it is retried on its schedule",
                delivery.Id, delivery.CustomerId, e.GetType().Name);
            return new Outcome(new AttemptResult(false, null, null, PreparationFailed), null, _time.GetUtcNow(), Posted: true);
        }
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
        var (attempt, retryAfter) = claimed.SecretUnreadable
            ? (new AttemptResult(false, null, null, SecretUnreadable), null)
            : await PostAsync(claimed.Endpoint, claimed.Secret, delivery, ct);
        var at = _time.GetUtcNow();
        if (attempt.StatusCode == (int)HttpStatusCode.Gone)
            claimed.GoneAt ??= at;
        return new Outcome(attempt, retryAfter, at, Posted: true);
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
            if (Apply(delivery, outcome) && lane.Endpoint is { } claimed && disabled.Add(claimed.Endpoint.Id))
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
    }

    /// <summary>Moves a delivery on after an attempt (retry, delivered or dead); true when the receiver answered 410 Gone.</summary>
    private bool Apply(WebhookDelivery delivery, Outcome outcome)
    {
        var attempt = outcome.Attempt;
        if (!outcome.Posted)
        {
            delivery.State = DeliveryState.Dead;
            delivery.LastError = attempt.Error;
            return false;
        }
        delivery.Attempts++;
        delivery.LastStatusCode = attempt.StatusCode;
        delivery.LastResponse = attempt.Response;
        delivery.LastError = attempt.Error;
        if (attempt.Delivered)
        {
            delivery.State = DeliveryState.Delivered;
            delivery.DeliveredAt = outcome.At;
        }
        else if (attempt.StatusCode == (int)HttpStatusCode.Gone)
        {
            delivery.State = DeliveryState.Dead;
            return true;
        }
        else if (NextDelay(delivery.Attempts, outcome.RetryAfter) is { } delay)
        {
            delivery.NextAttemptAt = outcome.At + delay;
        }
        else
        {
            delivery.State = DeliveryState.Dead;
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

    private async Task<(AttemptResult Attempt, TimeSpan? RetryAfter)> PostAsync(WebhookEndpoint endpoint, string? secret, WebhookDelivery delivery, CancellationToken ct)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = Prepare(endpoint.Url, secret, delivery, timestamp);
        if (request is null)
            return (new AttemptResult(false, null, null, PreparationFailed), null);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Value.AttemptTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            // A reply from inside the network must not be readable by whoever chose the URL: tenants see its status only.
            var text = ShowsReplies(request.RequestUri!) ? await ReadExcerptAsync(response, timeout.Token) : null;
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
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // One text for every way a connection can fail, so the delivery log is no port scanner; operators get the detail.
            var refused = Refused(e);
            _logger.LogDebug("Webhook delivery {DeliveryId} to endpoint {EndpointId} failed: {Reason}", delivery.Id, endpoint.Id,
                refused ? "target refused" : e.InnerException?.Message ?? e.Message);
            return (new AttemptResult(false, null, null, refused ? WebhookTargets.RefusedMessage : ConnectionFailed), null);
        }
    }

    /// <summary>The request, or null when the stored URL or secret cannot be put into one (settings saved before they were checked).</summary>
    private static HttpRequestMessage? Prepare(string url, string? secret, WebhookDelivery delivery, long timestamp)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || (secret is not null && !WebhookTargets.IsSendable(secret)))
            return null;
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
        try
        {
            request.Headers.Add("webhook-id", delivery.EventId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (secret is not null)
            {
                request.Headers.Add("X-Wapbridge-Secret", secret);
                request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, delivery.EventId, timestamp, delivery.Payload));
            }
            return request;
        }
        catch (FormatException)
        {
            request.Dispose();
            return null;
        }
    }

    private static bool Refused(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is WebhookTargetRefusedException)
                return true;
        return false;
    }

    /// <summary>
    /// Whether a reply's body may be shown: only when it surely came from a public address, i.e. when no other target is
    /// allowed at all, or the URL names a public address itself.
    /// </summary>
    private bool ShowsReplies(Uri uri)
    {
        var options = _options.Value;
        if (!options.AllowLoopbackTargets && !options.AllowPrivateTargets)
            return true;
        return WebhookTargets.LiteralAddress(uri) is { } address && WebhookTargets.Classify(address, HostAddresses.Current) == TargetKind.Public;
    }

    /// <summary>The start of a reply, as text any database stores.</summary>
    internal static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new char[500];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var read = await reader.ReadBlockAsync(buffer, ct);
        // PostgreSQL refuses NUL and half a character (cut off at the end of the excerpt), and one such row would fail
        // the group commit of every tenant's outcomes with it.
        for (var i = 0; i < read; i++)
            if (buffer[i] == '\0'
                || (char.IsHighSurrogate(buffer[i]) && (i + 1 == read || !char.IsLowSurrogate(buffer[i + 1])))
                || (char.IsLowSurrogate(buffer[i]) && (i == 0 || !char.IsHighSurrogate(buffer[i - 1]))))
                buffer[i] = '\uFFFD';
        return new string(buffer, 0, read);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
