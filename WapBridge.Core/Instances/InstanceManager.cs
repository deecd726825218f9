using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>
/// Owns the engine sessions of the instances this node hosts: opens them at start-up, records every
/// state change with its reason, reconnects dropped sessions with backoff, and closes them cleanly.
/// </summary>
public sealed class InstanceManager(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    EngineRegistry engines,
    IDataProtectionProvider dataProtection,
    IServiceProvider services,
    IOptions<NodeOptions> node,
    TimeProvider time,
    ILogger<InstanceManager> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan[] ReconnectBackoff =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    // Task.Delay takes at most ~24.8 days; a longer ban is waited out in steps (WhatsApp answers 402 again meanwhile).
    private static readonly TimeSpan MaxReconnectWait = TimeSpan.FromDays(24);

    // An engine event whose commit failed is retried until stored, never acknowledged and dropped.
    private static readonly TimeSpan[] CommitRetryBackoff =
        [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private readonly ConcurrentDictionary<string, LiveSession> _live = new();
    private readonly IDataProtector _protector = dataProtection.CreateProtector("WapBridge.Instances.EngineCredentials");
    private readonly IDataProtector _authProtector = dataProtection.CreateProtector("WapBridge.Instances.EngineAuthState");
    private readonly IDataProtector _sentProtector = dataProtection.CreateProtector(SentMessageStore.Purpose);
    private readonly CancellationTokenSource _stopping = new();
    private List<IInstanceEventObserver>? _observers;

    /// <summary>
    /// Raised with the instance id after its state or QR code changed, so dashboards update live.
    /// Handlers run on the engine's thread and must return quickly.
    /// </summary>
    public event Action<string>? Changed;

    /// <summary>The QR code an instance shows right now, if it is pairing.</summary>
    public QrCodeEvent? CurrentQr(string instanceCode) => _live.TryGetValue(instanceCode, out var live) ? live.Qr : null;

    /// <summary>The instance as this node last recorded it, when its session lives here (no query).</summary>
    public Instance? Snapshot(string instanceCode) => _live.TryGetValue(instanceCode, out var live) ? live.Instance : null;

    public IEngineSession? Session(string instanceCode) => _live.TryGetValue(instanceCode, out var live) ? live.Session : null;

    public async Task StartAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resumable = await db.Instances.AsNoTracking()
            .Where(i => i.NodeId == node.Value.Id && i.EngineCredentials != null
                && (i.State == InstanceStates.Connected || i.State == InstanceStates.Connecting || i.State == InstanceStates.Disconnected))
            .ToListAsync(ct);
        foreach (var instance in resumable)
        {
            try
            {
                await OpenAsync(instance, ct);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Could not resume instance {Instance}", instance.Code);
                // Say why on the instance (e.g. its engine is unavailable on this node) instead of leaving its old state.
                var reason = "could not resume: " + e.Message;
                if (reason.Length > 500) reason = reason[..500];
                await using var failed = await dbFactory.CreateDbContextAsync(ct);
                await failed.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u
                    .SetProperty(i => i.State, InstanceStates.Disconnected)
                    .SetProperty(i => i.LastError, reason)
                    .SetProperty(i => i.NextRetryAt, (DateTimeOffset?)null)
                    .SetProperty(i => i.ReconnectAttempts, 0)
                    .SetProperty(i => i.StateChangedAt, time.GetUtcNow()), ct);
            }
        }
        if (resumable.Count > 0)
            logger.LogInformation("Resumed {Count} instance sessions on node {Node}", resumable.Count, node.Value.Id);
    }

    /// <summary>Opens (or reopens) the instance's session: it connects with stored credentials or starts pairing.</summary>
    public async Task OpenAsync(Instance instance, CancellationToken ct = default)
    {
        await CloseAsync(instance.Code);
        var engine = engines.GetAvailable(instance.Engine);
        var live = new LiveSession(instance.Id, instance.Code);
        live.Session = engine.CreateSession(new EngineSessionContext(instance.Code, new Sink(this, live),
            new InstanceCredentialStore(dbFactory, _protector, instance.Id),
            new InstanceAuthStore(dbFactory, _authProtector, instance.Id, time), instance.CustomerId)
        {
            SentMessages = new SentMessageStore(dbFactory, _sentProtector, instance.Id, time),
        });
        _live[instance.Code] = live;
        var hasCredentials = instance.EngineCredentials is not null;
        await RecordStateAsync(live, hasCredentials ? InstanceStates.Connecting : InstanceStates.New, hasCredentials ? "opening session" : "waiting for pairing", ct);
        await live.Session.ConnectAsync(ct);
    }

    /// <summary>Closes the session without logging out: the credentials stay for the next open.</summary>
    public async Task CloseAsync(string instanceCode)
    {
        if (_live.TryRemove(instanceCode, out var live))
        {
            live.Closed.Cancel();
            if (live.Session is not null)
                await live.Session.DisposeAsync();
        }
    }

    public async Task LogoutAsync(string instanceCode, CancellationToken ct = default)
    {
        if (_live.TryGetValue(instanceCode, out var live) && live.Session is not null)
            await live.Session.LogoutAsync(ct);
        await CloseAsync(instanceCode);
        // Logged out means no session can resume: forget the auth state even when no session was open here.
        var instanceId = live?.InstanceId;
        if (instanceId is null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            instanceId = await db.Instances.Where(i => i.Code == instanceCode).Select(i => (int?)i.Id).SingleOrDefaultAsync(ct);
        }
        if (instanceId is { } id)
            await InstanceAuthStore.ClearAsync(dbFactory, id, ct);
    }

    private async Task HandleAsync(LiveSession live, EngineEvent e)
    {
        List<(IGroupCommitInstanceEventObserver Observer, Instance Instance, Task Committed)>? uncommitted = null;
        // A failed reconnect repeats "disconnected": observers (the instance.status webhook) hear of real changes only.
        var stateChanged = true;
        await live.Gate.WaitAsync();
        try
        {
            if (live.Closed.IsCancellationRequested)
                return;
            switch (e)
            {
                case QrCodeEvent qr:
                    live.Qr = qr;
                    await RecordStateAsync(live, InstanceStates.Qr, null, CancellationToken.None);
                    break;
                case PairingCodeEvent:
                    await RecordStateAsync(live, InstanceStates.Pairing, "pairing code issued", CancellationToken.None);
                    break;
                case PairingExpiredEvent expired:
                    live.Qr = null;
                    AbandonRetry(live);
                    await RecordStateAsync(live, InstanceStates.Disconnected, expired.Reason + "; restart the instance for a new QR code", CancellationToken.None);
                    break;
                case ConnectedEvent connected:
                    live.Qr = null;
                    live.ReconnectAttempts = 0;
                    AbandonRetry(live);
                    await RecordStateAsync(live, InstanceStates.Connected, null, CancellationToken.None, i =>
                    {
                        i.PhoneNumber = connected.PhoneNumber;
                        i.PushName = connected.PushName;
                        i.ConnectedAt = time.GetUtcNow();
                        i.BannedUntil = null;
                    });
                    break;
                case DisconnectedEvent disconnected:
                    stateChanged = await RecordDisconnectAsync(live, disconnected);
                    break;
                case AccountRestrictedEvent restricted:
                    await RecordAccountAsync(live, i =>
                    {
                        i.RestrictedUntil = restricted.Until;
                        i.RestrictionDetail = restricted.Detail.Length > 500 ? restricted.Detail[..500] : restricted.Detail;
                    });
                    logger.LogWarning("Instance {Instance} is restricted by WhatsApp until {Until}: {Detail}", live.Code, restricted.Until, restricted.Detail);
                    break;
                case LoggedOutEvent loggedOut:
                    live.Qr = null;
                    AbandonRetry(live);
                    await RecordStateAsync(live, InstanceStates.LoggedOut, loggedOut.Reason, CancellationToken.None);
                    break;
                case UndecryptableMessageEvent:
                    await CountUndecryptableAsync(live);
                    break;
                case LidMappingEvent mapping:
                    await LidMappings.SaveAsync(dbFactory, live.InstanceId, mapping.Lid, mapping.PhoneNumber, time.GetUtcNow(), CancellationToken.None);
                    break;
            }

            if (e is QrCodeEvent)
                RaiseChanged(live.Code);

            // Resolved late: observers (the outbox among them) depend on this manager themselves.
            _observers ??= services.GetServices<IInstanceEventObserver>().ToList();
            live.Instance ??= await LoadAsync(live.InstanceId);
            if (stateChanged && live.Instance is { } instance)
                foreach (var observer in _observers)
                {
                    if (observer is IGroupCommitInstanceEventObserver grouped)
                    {
                        var committed = await StartCommitAsync(grouped, instance, e);
                        if (!committed.IsCompletedSuccessfully)
                            (uncommitted ??= []).Add((grouped, instance, committed));
                    }
                    else
                    {
                        await observer.OnEngineEventAsync(instance, e, _stopping.Token);
                    }
                }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Handling {Event} for instance {Instance} failed", e.GetType().Name, live.Code);
        }
        finally
        {
            live.Gate.Release();
        }

        // Outside the gate, so the instance's next events join the same group commit; the engine's event is
        // acknowledged (this method returns) only once what it caused is committed.
        if (uncommitted is not null)
            foreach (var (observer, instance, committed) in uncommitted)
                await CommitWithRetryAsync(live, observer, instance, e, committed);
    }

    private async Task<Task> StartCommitAsync(IGroupCommitInstanceEventObserver observer, Instance instance, EngineEvent e)
    {
        try
        {
            return await observer.StartEngineEventAsync(instance, e, _stopping.Token);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            // E.g. the media file could not be written: retried like a failed commit.
            return Task.FromException(ex);
        }
    }

    /// <summary>
    /// Waits for the event's commit and starts it again (with backoff) while it fails, so the engine's event is not
    /// acknowledged before what it brought is stored. Observers recognise what a failed attempt stored after all.
    /// Only closing the session or stopping WapBridge ends the retries.
    /// </summary>
    private async Task CommitWithRetryAsync(LiveSession live, IGroupCommitInstanceEventObserver observer, Instance instance, EngineEvent e, Task committed)
    {
        for (var attempt = 1; ; attempt++)
        {
            var delay = CommitRetryBackoff[Math.Min(attempt - 1, CommitRetryBackoff.Length - 1)];
            try
            {
                await committed;
                if (attempt > 1)
                    logger.LogInformation("{Event} for instance {Instance} stored after {Attempts} attempts", e.GetType().Name, live.Code, attempt);
                return;
            }
            catch (Exception ex)
            {
                // Retrying helps against a database that is away or busy, never against data it refuses: that would hold
                // up every later event of the instance (and the caller waiting on this one) for good.
                if (!DatabaseErrors.IsWorthRetrying(ex))
                {
                    logger.LogError(ex, "{Event} for instance {Instance} cannot be stored (not a passing database failure); not retried",
                        e.GetType().Name, live.Code);
                    return;
                }
                if (live.Closed.IsCancellationRequested || _stopping.IsCancellationRequested)
                {
                    logger.LogError(ex, "Committing {Event} for instance {Instance} failed while closing; not retried", e.GetType().Name, live.Code);
                    return;
                }
                logger.LogError(ex, "Committing {Event} for instance {Instance} failed (attempt {Attempt}); retrying in {Delay}",
                    e.GetType().Name, live.Code, attempt, delay);
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(live.Closed.Token, _stopping.Token);
            try
            {
                await Task.Delay(delay, time, linked.Token);
            }
            catch (OperationCanceledException)
            {
                logger.LogError("{Event} for instance {Instance} was not stored: the session closed while retrying", e.GetType().Name, live.Code);
                return;
            }
            committed = await StartCommitAsync(observer, instance, e);
        }
    }

    private async Task CountUndecryptableAsync(LiveSession live)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Instances.Where(i => i.Id == live.InstanceId)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.UndecryptableMessages, i => i.UndecryptableMessages + 1));
        if (live.Instance is { } snapshot)
            snapshot.UndecryptableMessages++;
        RaiseChanged(live.Code);
    }

    /// <summary>
    /// Records that WhatsApp restricted the instance (a send got 463): it stays connected, the outbox holds sends to new
    /// contacts until <paramref name="until"/>, observers pause its campaigns and tell the customer's webhook.
    /// </summary>
    public Task ReportRestrictionAsync(string instanceCode, DateTimeOffset until, string detail) =>
        _live.TryGetValue(instanceCode, out var live)
            ? HandleAsync(live, new AccountRestrictedEvent(instanceCode, time.GetUtcNow(), until, detail))
            : Task.CompletedTask;

    /// <summary>Changes account facts (restriction, ban) that are not a state change, and keeps the snapshot current.</summary>
    private async Task RecordAccountAsync(LiveSession live, Action<Instance> change)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var instance = await db.Instances.SingleOrDefaultAsync(i => i.Id == live.InstanceId);
        if (instance is null)
            return;
        change(instance);
        await db.SaveChangesAsync();
        db.Entry(instance).State = EntityState.Detached;
        live.Instance = instance;
        RaiseChanged(live.Code);
    }

    /// <summary>
    /// Records a dropped connection and, when the engine may reconnect, schedules the next attempt with backoff (a ban:
    /// at its end). The instance stays <c>disconnected</c> while retrying; the attempt number and its time are on it.
    /// </summary>
    /// <returns>Whether the state changed (a failed reconnect of a disconnected instance does not).</returns>
    private async Task<bool> RecordDisconnectAsync(LiveSession live, DisconnectedEvent disconnected)
    {
        var now = time.GetUtcNow();
        TimeSpan? wait = disconnected.BannedUntil is { } bannedUntil ? bannedUntil - now
            : disconnected.Transient ? ReconnectBackoff[Math.Min(live.ReconnectAttempts, ReconnectBackoff.Length - 1)]
            : null;
        if (wait < TimeSpan.Zero)
            wait = TimeSpan.Zero;
        if (wait is not null)
            live.ReconnectAttempts++;
        else
            AbandonRetry(live);
        var nextRetryAt = now + wait;
        // The ban and the next attempt are written with the state, so nobody reads "disconnected" without them.
        var changed = await RecordStateAsync(live, InstanceStates.Disconnected, disconnected.Reason, CancellationToken.None, i =>
        {
            if (disconnected.BannedUntil is { } until)
                i.BannedUntil = until;
            if (wait is not null)
            {
                i.ReconnectAttempts = live.ReconnectAttempts;
                i.NextRetryAt = nextRetryAt;
            }
        }, disconnected.Detail);
        if (!changed)
            logger.LogInformation("Reconnect of instance {Instance} failed: {Reason}{Detail}; attempt {Attempt} at {NextRetryAt}",
                live.Code, disconnected.Reason, disconnected.Detail is null ? "" : $" ({disconnected.Detail})", live.ReconnectAttempts, nextRetryAt);
        if (wait is { } delay)
            ScheduleReconnect(live, delay);
        return changed;
    }

    /// <summary>
    /// Starts the instance's pending reconnect attempt now instead of at its time ("Retry now").
    /// </summary>
    /// <returns>False when no reconnect is pending here (connected, logged out, or a final state that needs a restart).</returns>
    public bool RetryNow(string instanceCode)
    {
        if (!_live.TryGetValue(instanceCode, out var live) || live.Retry is not { } retry)
            return false;
        logger.LogInformation("Reconnect attempt {Attempt} of instance {Instance} starts now, on request", live.ReconnectAttempts, live.Code);
        return retry.Now.TrySetResult();
    }

    // Taken off the session too, so a later "Retry now" reopens instead of waking an attempt that will never run.
    private static void AbandonRetry(LiveSession live) => Interlocked.Exchange(ref live.Retry, null)?.Abandon();

    private void ScheduleReconnect(LiveSession live, TimeSpan wait)
    {
        var retry = new PendingRetry(CancellationTokenSource.CreateLinkedTokenSource(live.Closed.Token, _stopping.Token));
        // One pending attempt per session: a later close replaces the earlier schedule.
        Interlocked.Exchange(ref live.Retry, retry)?.Abandon();
        _ = ReconnectAsync(live, retry, wait);
    }

    private async Task ReconnectAsync(LiveSession live, PendingRetry retry, TimeSpan wait)
    {
        try
        {
            using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(retry.Token))
            {
                await Task.WhenAny(Task.Delay(wait < MaxReconnectWait ? wait : MaxReconnectWait, time, waiting.Token), retry.Now.Task);
                await waiting.CancelAsync();
            }
            retry.Token.ThrowIfCancellationRequested();
            Interlocked.CompareExchange(ref live.Retry, null, retry);
            logger.LogInformation("Reconnecting instance {Instance} (attempt {Attempt})", live.Code, live.ReconnectAttempts);
            await live.Session!.ConnectAsync(retry.Token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Reconnect of instance {Instance} failed", live.Code);
            await HandleAsync(live, new DisconnectedEvent(live.Code, time.GetUtcNow(), "reconnect failed: " + e.Message, Transient: true));
        }
    }

    /// <summary>Reads the instance again after a change made outside its session (e.g. a restriction lifted), and tells listeners.</summary>
    public async Task ReloadAsync(string instanceCode)
    {
        if (!_live.TryGetValue(instanceCode, out var live))
            return;
        live.Instance = await LoadAsync(live.InstanceId);
        RaiseChanged(live.Code);
    }

    private async Task<Instance?> LoadAsync(int instanceId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId);
    }

    private void RaiseChanged(string instanceCode)
    {
        foreach (var handler in Changed?.GetInvocationList() ?? [])
        {
            try
            {
                ((Action<string>)handler)(instanceCode);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "A listener of instance changes failed");
            }
        }
    }

    /// <param name="detail">The engine's raw words behind a plain <paramref name="reason"/>: history and log only.</param>
    /// <returns>Whether the state changed.</returns>
    private async Task<bool> RecordStateAsync(LiveSession live, string state, string? reason, CancellationToken ct, Action<Instance>? alsoChange = null,
        string? detail = null)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.SingleOrDefaultAsync(i => i.Id == live.InstanceId, ct);
        if (instance is null)
            return false;
        var changed = instance.State != state;
        instance.State = state;
        if (changed)
            instance.StateChangedAt = now;
        instance.LastError = state is InstanceStates.Disconnected or InstanceStates.LoggedOut ? Clip(reason) : null;
        // No reconnect is pending unless the caller schedules one (alsoChange).
        instance.NextRetryAt = null;
        instance.ReconnectAttempts = 0;
        alsoChange?.Invoke(instance);
        if (changed || reason is not null)
            db.InstanceStateChanges.Add(new InstanceStateChange
            {
                InstanceId = instance.Id, State = state, Reason = Clip(detail is null ? reason : $"{reason} ({detail})"), At = now,
            });
        await db.SaveChangesAsync(ct);
        // Observers see the instance as it is now, without a query per engine event.
        db.Entry(instance).State = EntityState.Detached;
        live.Instance = instance;
        if (changed)
            logger.LogInformation("Instance {Instance} is {State}{Reason}{Detail}", live.Code, state, reason is null ? "" : $" ({reason})",
                detail is null ? "" : $": {detail}");
        RaiseChanged(live.Code);
        return changed;
    }

    private static string? Clip(string? text) => text is { Length: > 500 } ? text[..500] : text;

    public async Task StopAsync(CancellationToken ct)
    {
        await _stopping.CancelAsync();
        foreach (var code in _live.Keys.ToList())
            await CloseAsync(code);
    }

    // The token source is never disposed: late reconnect loops may still link to it after shutdown.
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private sealed class LiveSession(int instanceId, string code)
    {
        public int InstanceId { get; } = instanceId;
        public string Code { get; } = code;
        public IEngineSession? Session { get; set; }
        public QrCodeEvent? Qr { get; set; }
        public Instance? Instance { get; set; }
        public int ReconnectAttempts { get; set; }
        public PendingRetry? Retry;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public CancellationTokenSource Closed { get; } = new();
    }

    /// <summary>A scheduled reconnect attempt: it starts at its time, at once on <see cref="Now"/>, or never once abandoned.</summary>
    private sealed class PendingRetry(CancellationTokenSource abandon)
    {
        public CancellationToken Token { get; } = abandon.Token;
        public TaskCompletionSource Now { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Abandon() => abandon.Cancel();
    }

    private sealed class Sink(InstanceManager manager, LiveSession live) : IEngineEventSink
    {
        public ValueTask OnEventAsync(EngineEvent engineEvent, CancellationToken ct = default) => new(manager.HandleAsync(live, engineEvent));
    }
}
