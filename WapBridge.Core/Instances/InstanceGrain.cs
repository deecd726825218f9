using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>
/// The actor of one WhatsApp instance: it owns the engine session (connect, QR and pairing, receipts, reconnects),
/// records every state change with its reason and node, hands engine events to the features that observe them, and
/// holds the database fence that keeps two nodes from holding one WhatsApp connection.
/// </summary>
/// <remarks>
/// Engine events arrive on the engine's threads and are handled there, one at a time per session (the session's
/// gate), as before the cluster: an actor turn per event would copy every inbound message through the serializer.
/// </remarks>
[KeepAlive]
[InstancePlacement]
public sealed class InstanceGrain(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    EngineRegistry engines,
    IDataProtectionProvider dataProtection,
    IEnumerable<IInstanceEventObserver> observers,
    LocalInstances local,
    InstanceChangeFeed changes,
    MessageDispatcher outbox,
    SimulatorNetwork simulator,
    NodeFence fence,
    IOptions<NodeOptions> node,
    TimeProvider time,
    ILogger<InstanceGrain> logger) : Grain, IInstanceGrain, ISimulatedPhoneGrain
{
    private static readonly TimeSpan[] ReconnectBackoff =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    // Task.Delay takes at most ~24.8 days; a longer ban is waited out in steps (WhatsApp answers 402 again meanwhile).
    private static readonly TimeSpan MaxReconnectWait = TimeSpan.FromDays(24);

    // An engine event whose commit failed is retried until stored, never acknowledged and dropped.
    private static readonly TimeSpan[] CommitRetryBackoff =
        [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private readonly IDataProtector _protector = dataProtection.CreateProtector("WapBridge.Instances.EngineCredentials");
    private readonly IDataProtector _authProtector = dataProtection.CreateProtector("WapBridge.Instances.EngineAuthState");
    private readonly IDataProtector _sentProtector = dataProtection.CreateProtector(SentMessageStore.Purpose);
    private readonly List<IInstanceEventObserver> _observers = observers.ToList();
    private readonly CancellationTokenSource _deactivating = new();
    private readonly string _node = node.Value.Id;
    private LiveSession? _live;

    private string Code => this.GetPrimaryKeyString();

    public async Task OpenAsync()
    {
        if (await LoadByCodeAsync() is { } instance)
            await OpenAsync(instance);
    }

    public async Task<bool> ResumeAsync()
    {
        if (_live is not null)
            return false;
        var instance = await LoadByCodeAsync();
        if (instance is { EngineCredentials: not null, State: InstanceStates.Connected or InstanceStates.Connecting or InstanceStates.Disconnected })
        {
            try
            {
                await OpenAsync(instance);
                return true;
            }
            catch (Exception e) when (e is not InstanceFencedException)
            {
                logger.LogError(e, "Could not resume instance {Instance}", instance.Code);
                // Say why on the instance (e.g. its engine is unavailable on this node) instead of leaving its old state.
                await using var db = await dbFactory.CreateDbContextAsync();
                await db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u
                    .SetProperty(i => i.State, InstanceStates.Disconnected)
                    .SetProperty(i => i.LastError, Clip("could not resume: " + e.Message))
                    .SetProperty(i => i.NextRetryAt, (DateTimeOffset?)null)
                    .SetProperty(i => i.ReconnectAttempts, 0)
                    .SetProperty(i => i.StateChangedAt, time.GetUtcNow()));
            }
        }
        return false;
    }

    private async Task OpenAsync(Instance instance)
    {
        await CloseSessionAsync();
        var engine = engines.GetAvailable(instance.Engine);
        var epoch = await fence.ClaimAsync(instance.Id, _deactivating.Token)
            ?? throw new InstanceFencedException(instance.Code);
        var live = new LiveSession(instance.Id, instance.Code, epoch);
        live.Session = engine.CreateSession(new EngineSessionContext(instance.Code, new Sink(this, live),
            new InstanceCredentialStore(dbFactory, _protector, instance.Id),
            new InstanceAuthStore(dbFactory, _authProtector, instance.Id, time), instance.CustomerId)
        {
            SentMessages = new SentMessageStore(dbFactory, _sentProtector, instance.Id, time),
        });
        _live = live;
        Publish(live);
        var hasCredentials = instance.EngineCredentials is not null;
        await RecordStateAsync(live, hasCredentials ? InstanceStates.Connecting : InstanceStates.New, hasCredentials ? "opening session" : "waiting for pairing", CancellationToken.None);
        await live.Session.ConnectAsync(_deactivating.Token);
    }

    /// <summary>Closes the session and lets the actor go (the instance is being deleted, or another node holds it now).</summary>
    public async Task CloseAsync()
    {
        await CloseSessionAsync();
        DeactivateOnIdle();
    }

    private async Task CloseSessionAsync()
    {
        if (_live is { } live && await EndSessionAsync(live))
            await fence.ReleaseAsync(live.InstanceId, live.Epoch);
    }

    /// <summary>Closes <paramref name="live"/> if it is still this actor's session; false when another call closed it first.</summary>
    private async Task<bool> EndSessionAsync(LiveSession live)
    {
        if (Interlocked.CompareExchange(ref _live, null, live) != live)
            return false;
        await live.Closed.CancelAsync();
        local.Remove(live.InstanceId, live.Code);
        if (live.Session is not null)
            await live.Session.DisposeAsync();
        return true;
    }

    public async Task LogoutAsync()
    {
        var instanceId = _live?.InstanceId;
        if (_live?.Session is { } session)
            await session.LogoutAsync(_deactivating.Token);
        await CloseSessionAsync();
        // Logged out means no session can resume: forget the auth state even when no session was open.
        instanceId ??= (await LoadByCodeAsync())?.Id;
        if (instanceId is { } id)
            await InstanceAuthStore.ClearAsync(dbFactory, id, CancellationToken.None);
    }

    public Task<bool> RetryNowAsync()
    {
        if (_live is not { Retry: { } retry } live)
            return Task.FromResult(false);
        logger.LogInformation("Reconnect attempt {Attempt} of instance {Instance} starts now, on request", live.ReconnectAttempts, live.Code);
        return Task.FromResult(retry.Now.TrySetResult());
    }

    public Task<InstanceLive> GetLiveAsync()
    {
        var qr = _live?.Qr;
        return Task.FromResult(new InstanceLive(_node, _live is not null, qr?.Qr, qr?.ExpiresAt));
    }

    public async Task<string> RequestPairingCodeAsync(string phoneNumber)
    {
        var session = _live?.Session
            ?? throw new WapBridgeException(ErrorKind.Conflict, "not_pairing", $"Instance {Code} is not waiting to be paired; restart it first.", "instance_id");
        try
        {
            return await session.RequestPairingCodeAsync(phoneNumber, _deactivating.Token);
        }
        catch (EngineException e)
        {
            throw EngineErrors.ForInstance(e);
        }
    }

    public async Task ReloadAsync()
    {
        if (_live is not { } live)
            return;
        live.Instance = await LoadAsync(live.InstanceId);
        Publish(live);
        changes.Publish(live.Code);
    }

    /// <summary>
    /// Records that WhatsApp restricted the instance (a send got 463): it stays connected, the outbox holds sends to new
    /// contacts until <paramref name="until"/>, observers pause its campaigns and tell the customer's webhook.
    /// </summary>
    public Task ReportRestrictionAsync(DateTimeOffset until, string detail) =>
        _live is { } live ? HandleAsync(live, new AccountRestrictedEvent(live.Code, time.GetUtcNow(), until, detail)) : Task.CompletedTask;

    public Task WakeOutboxAsync()
    {
        if (_live is { } live)
            outbox.Wake(live.InstanceId);
        return Task.CompletedTask;
    }

    public Task SendTypingAsync(string toPhone) => _live?.Session?.SendTypingAsync(toPhone, _deactivating.Token) ?? Task.CompletedTask;

    public Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys) => CallSessionAsync(session => session.MarkReadAsync(keys, _deactivating.Token));

    public Task SendPresenceAsync(string toJid, string state) => CallSessionAsync(session => session.SendPresenceAsync(toJid, state, _deactivating.Token));

    public Task DeleteForMeAsync(EngineMessageKey key, DateTimeOffset sentAt) =>
        CallSessionAsync(session => session.DeleteForMeAsync(key, sentAt, _deactivating.Token));

    /// <summary>A call on the live session, which must be connected; the engine's refusals as the API's errors.</summary>
    private async Task CallSessionAsync(Func<IEngineSession, Task> call)
    {
        if (_live?.Session is not { } session)
            throw new WapBridgeException(ErrorKind.InstanceNotConnected, "instance_not_connected",
                $"Instance {Code} is not connected: connect it (scan its QR code in /instances) first.", "instance_id");
        try
        {
            await call(session);
        }
        catch (EngineException e)
        {
            throw EngineErrors.ForInstance(e);
        }
    }

    public Task ScanAsync(string phoneNumber, string? pushName) => simulator.ScanAsync(Code, phoneNumber, pushName, _deactivating.Token);

    public Task<string> InjectInboundAsync(SimulatedInboundCall inbound) => simulator.InjectInboundAsync(Code, inbound.ToInbound(), _deactivating.Token);

    public Task DropConnectionAsync() => simulator.DropConnectionAsync(Code, _deactivating.Token);

    public Task UnlinkFromPhoneAsync() => simulator.UnlinkFromPhoneAsync(Code, _deactivating.Token);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        await _deactivating.CancelAsync();
        if (_live is { } live)
            logger.LogInformation("Instance {Instance} leaves node {Node}: {Reason}", live.Code, _node, reason.Description);
        await CloseSessionAsync();
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
                    await RecordStateAsync(live, null, null, CancellationToken.None, i =>
                    {
                        i.RestrictedUntil = restricted.Until;
                        i.RestrictionDetail = Clip(restricted.Detail);
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
                changes.Publish(live.Code);

            live.Instance ??= await LoadAsync(live.InstanceId);
            if (stateChanged && live.Instance is { } instance && !live.Closed.IsCancellationRequested)
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
                        await observer.OnEngineEventAsync(instance, e, _deactivating.Token);
                    }
                }
            if (e is ConnectedEvent)
                outbox.Wake(live.InstanceId);
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
            return await observer.StartEngineEventAsync(instance, e, _deactivating.Token);
        }
        catch (Exception ex) when (!_deactivating.IsCancellationRequested)
        {
            // E.g. the media file could not be written: retried like a failed commit.
            return Task.FromException(ex);
        }
    }

    /// <summary>
    /// Waits for the event's commit and starts it again (with backoff) while it fails, so the engine's event is not
    /// acknowledged before what it brought is stored. Observers recognise what a failed attempt stored after all.
    /// Only closing the session or the instance leaving this node ends the retries.
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
                if (live.Closed.IsCancellationRequested || _deactivating.IsCancellationRequested)
                {
                    logger.LogError(ex, "Committing {Event} for instance {Instance} failed while closing; not retried", e.GetType().Name, live.Code);
                    return;
                }
                logger.LogError(ex, "Committing {Event} for instance {Instance} failed (attempt {Attempt}); retrying in {Delay}",
                    e.GetType().Name, live.Code, attempt, delay);
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(live.Closed.Token, _deactivating.Token);
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
        changes.Publish(live.Code);
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
        if (wait is { } delay && !live.Closed.IsCancellationRequested)
            ScheduleReconnect(live, delay);
        return changed;
    }

    // Taken off the session too, so a later "Retry now" reopens instead of waking an attempt that will never run.
    private static void AbandonRetry(LiveSession live) => Interlocked.Exchange(ref live.Retry, null)?.Abandon();

    private void ScheduleReconnect(LiveSession live, TimeSpan wait)
    {
        var retry = new PendingRetry(CancellationTokenSource.CreateLinkedTokenSource(live.Closed.Token, _deactivating.Token));
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

    private async Task<Instance?> LoadByCodeAsync()
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var code = Code;
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Code == code);
    }

    private async Task<Instance?> LoadAsync(int instanceId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId);
    }

    private void Publish(LiveSession live) => local.Publish(live.InstanceId, live.Code, live.Session, live.Instance, live.Epoch);

    /// <summary>
    /// Records the session's state (null: keeps it, for account facts such as a restriction) under the fence: when
    /// another node has taken the instance over meanwhile, nothing is written and this node's session closes.
    /// </summary>
    /// <param name="detail">The engine's raw words behind a plain <paramref name="reason"/>: history and log only.</param>
    /// <returns>Whether the state changed.</returns>
    private async Task<bool> RecordStateAsync(LiveSession live, string? state, string? reason, CancellationToken ct, Action<Instance>? alsoChange = null,
        string? detail = null)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.SingleOrDefaultAsync(i => i.Id == live.InstanceId, ct);
        if (instance is null)
            return false;
        if (instance.SessionNode != _node || instance.SessionEpoch != live.Epoch)
        {
            logger.LogWarning("Instance {Instance} was taken over by node {Holder}; closing its session on node {Node}",
                live.Code, instance.SessionNode ?? "(none)", _node);
            // Another node holds the instance now: the session closes without touching the row (no release).
            _ = EndSessionAsync(live);
            return false;
        }
        var changed = state is not null && instance.State != state;
        if (state is not null)
        {
            instance.State = state;
            if (changed)
                instance.StateChangedAt = now;
            instance.LastError = state is InstanceStates.Disconnected or InstanceStates.LoggedOut ? Clip(reason) : null;
            // No reconnect is pending unless the caller schedules one (alsoChange).
            instance.NextRetryAt = null;
            instance.ReconnectAttempts = 0;
        }
        alsoChange?.Invoke(instance);
        if (state is not null && (changed || reason is not null))
            db.InstanceStateChanges.Add(new InstanceStateChange
            {
                InstanceId = instance.Id, State = state, Reason = Clip(detail is null ? reason : $"{reason} ({detail})"), At = now, NodeId = _node,
            });
        await db.SaveChangesAsync(ct);
        // Observers see the instance as it is now, without a query per engine event.
        db.Entry(instance).State = EntityState.Detached;
        live.Instance = instance;
        if (ReferenceEquals(_live, live))
            Publish(live);
        if (changed)
            logger.LogInformation("Instance {Instance} is {State} on node {Node}{Reason}{Detail}", live.Code, state, _node, reason is null ? "" : $" ({reason})",
                detail is null ? "" : $": {detail}");
        changes.Publish(live.Code);
        return changed;
    }

    private static string? Clip(string? text) => text is { Length: > 500 } ? text[..500] : text;

    private sealed class LiveSession(int instanceId, string code, long epoch)
    {
        public int InstanceId { get; } = instanceId;
        public string Code { get; } = code;
        public long Epoch { get; } = epoch;
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

    private sealed class Sink(InstanceGrain grain, LiveSession live) : IEngineEventSink
    {
        public ValueTask OnEventAsync(EngineEvent engineEvent, CancellationToken ct = default) => new(grain.HandleAsync(live, engineEvent));
    }
}

/// <summary>Another live node holds the instance's WhatsApp connection: this node must not open one.</summary>
[GenerateSerializer, Alias("wapbridge.instance-fenced")]
public sealed class InstanceFencedException(string instanceCode)
    : WapBridgeException(ErrorKind.Conflict, "instance_busy", $"Instance {instanceCode} is connected on another node right now; try again in a moment.", "instance_id");
