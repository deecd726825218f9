using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>
/// What an instance actor does with its engine's events (QR, pairing, connected, disconnected, logged out, restricted,
/// receipts, inbound): it records the instance's state, schedules reconnects, hands the event to the features that
/// observe it and acknowledges it to the engine only once what it caused is stored.
/// </summary>
/// <remarks>
/// Engine events arrive on the engine's threads and are handled there, one at a time per session (the session's
/// gate), as before the cluster: an actor turn per event would copy every inbound message through the serializer.
/// </remarks>
public sealed class EngineEventProcessor(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceStateStore store,
    ReconnectScheduler reconnects,
    IEnumerable<IInstanceEventObserver> observers,
    IEnumerable<ILidMappingObserver> lidObservers,
    InstanceChangeFeed changes,
    MessageDispatcher outbox,
    TimeProvider time,
    ILogger<EngineEventProcessor> logger)
{
    // An engine event whose commit failed is retried until stored, never acknowledged and dropped.
    private static readonly TimeSpan[] CommitRetryBackoff =
        [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private readonly List<IInstanceEventObserver> _observers = observers.ToList();
    private readonly List<ILidMappingObserver> _lidObservers = lidObservers.ToList();

    /// <summary>The wait before starting a failed commit again, after its <paramref name="attempt"/>th try.</summary>
    internal static TimeSpan CommitRetryDelay(int attempt) => CommitRetryBackoff[Math.Min(attempt - 1, CommitRetryBackoff.Length - 1)];

    /// <summary>Where <paramref name="live"/>'s engine session reports its events.</summary>
    internal IEngineEventSink SinkFor(LiveSession live) => new Sink(this, live);

    internal async Task HandleAsync(LiveSession live, EngineEvent e)
    {
        // Whatever activity the engine's thread carries (the call that started the session, a send) did not cause this
        // event: what it leads to is traced from the rows it concerns (a receipt: its message's trace), or not at all.
        Activity.Current = null;
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
                    await store.RecordAsync(live, InstanceState.Qr, null);
                    break;
                case PairingCodeEvent:
                    await store.RecordAsync(live, InstanceState.Pairing, "pairing code issued");
                    break;
                case PairingExpiredEvent expired:
                    live.Qr = null;
                    ReconnectScheduler.Abandon(live);
                    await store.RecordAsync(live, InstanceState.Disconnected, expired.Reason + "; restart the instance for a new QR code");
                    break;
                case ConnectedEvent connected:
                    live.Qr = null;
                    live.ReconnectAttempts = 0;
                    ReconnectScheduler.Abandon(live);
                    await store.RecordAsync(live, InstanceState.Connected, null, i =>
                    {
                        // Another number (or the first one) paired: WhatsApp judges that number from scratch, so its warm-up starts now.
                        if (i.PhoneNumber != connected.PhoneNumber)
                            i.WarmUpStartedAt = time.GetUtcNow();
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
                    await store.RecordAsync(live, null, null, i =>
                    {
                        i.RestrictedUntil = restricted.Until;
                        i.RestrictionDetail = InstanceStateStore.Clip(restricted.Detail);
                    });
                    logger.LogWarning("Instance {Instance} is restricted by WhatsApp until {Until}: {Detail}", live.Code, restricted.Until, restricted.Detail);
                    break;
                case LoggedOutEvent loggedOut:
                    live.Qr = null;
                    ReconnectScheduler.Abandon(live);
                    await store.RecordAsync(live, InstanceState.LoggedOut, loggedOut.Reason);
                    break;
                case UndecryptableMessageEvent:
                    await store.CountUndecryptableAsync(live);
                    break;
                case LidMappingEvent mapping:
                    await LidMappings.SaveAsync(dbFactory, _lidObservers, live.InstanceId, mapping.Lid, mapping.PhoneNumber, time.GetUtcNow(), CancellationToken.None);
                    break;
            }

            if (e is QrCodeEvent)
                changes.Publish(live.Code);

            live.Instance ??= await store.LoadAsync(live.InstanceId);
            if (stateChanged && live.Instance is { } instance && !live.Closed.IsCancellationRequested)
                foreach (var observer in _observers)
                {
                    if (observer is IGroupCommitInstanceEventObserver grouped)
                    {
                        var committed = await StartCommitAsync(live, grouped, instance, e);
                        if (!committed.IsCompletedSuccessfully)
                            (uncommitted ??= []).Add((grouped, instance, committed));
                    }
                    else
                    {
                        await observer.OnEngineEventAsync(instance, e, live.Leaving);
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

    /// <summary>
    /// Records a dropped connection and, when the engine may reconnect, schedules the next attempt with backoff (a ban:
    /// at its end). The instance stays <c>disconnected</c> while retrying; the attempt number and its time are on it.
    /// </summary>
    /// <returns>Whether the state changed (a failed reconnect of a disconnected instance does not).</returns>
    private async Task<bool> RecordDisconnectAsync(LiveSession live, DisconnectedEvent disconnected)
    {
        var now = time.GetUtcNow();
        var wait = ReconnectPolicy.WaitAfter(disconnected, live.ReconnectAttempts, now);
        if (wait is not null)
            live.ReconnectAttempts++;
        else
            ReconnectScheduler.Abandon(live);
        var nextRetryAt = now + wait;
        // The ban and the next attempt are written with the state, so nobody reads "disconnected" without them.
        var changed = await store.RecordAsync(live, InstanceState.Disconnected, disconnected.Reason, i =>
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
            reconnects.Schedule(live, delay, failed => HandleAsync(live, failed));
        return changed;
    }

    private static async Task<Task> StartCommitAsync(LiveSession live, IGroupCommitInstanceEventObserver observer, Instance instance, EngineEvent e)
    {
        try
        {
            return await observer.StartEngineEventAsync(instance, e, live.Leaving);
        }
        catch (Exception ex) when (!live.Leaving.IsCancellationRequested)
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
            var delay = CommitRetryDelay(attempt);
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
                if (live.Closed.IsCancellationRequested || live.Leaving.IsCancellationRequested)
                {
                    logger.LogError(ex, "Committing {Event} for instance {Instance} failed while closing; not retried", e.GetType().Name, live.Code);
                    return;
                }
                logger.LogError(ex, "Committing {Event} for instance {Instance} failed (attempt {Attempt}); retrying in {Delay}",
                    e.GetType().Name, live.Code, attempt, delay);
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(live.Closed.Token, live.Leaving);
            try
            {
                await Task.Delay(delay, time, linked.Token);
            }
            catch (OperationCanceledException)
            {
                logger.LogError("{Event} for instance {Instance} was not stored: the session closed while retrying", e.GetType().Name, live.Code);
                return;
            }
            committed = await StartCommitAsync(live, observer, instance, e);
        }
    }

    private sealed class Sink(EngineEventProcessor handler, LiveSession live) : IEngineEventSink
    {
        public ValueTask OnEventAsync(EngineEvent engineEvent, CancellationToken ct = default) => new(handler.HandleAsync(live, engineEvent));
    }
}
