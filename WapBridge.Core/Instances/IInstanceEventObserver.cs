using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>
/// Features that react to what an instance's engine reports (messaging, webhooks). Called after the
/// instance's own state is recorded, one event at a time per instance.
/// </summary>
public interface IInstanceEventObserver
{
    Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct);
}

/// <summary>
/// An observer whose work is started in event order but made durable later, together with other events'
/// (group commit). <see cref="EngineEventProcessor"/> calls <see cref="StartEngineEventAsync"/> instead of
/// <see cref="IInstanceEventObserver.OnEngineEventAsync"/> while it holds the instance's event gate, and awaits
/// the returned task after releasing the gate — so the instance's next events can join the same commit — but
/// before it acknowledges the event to the engine.
/// </summary>
public interface IGroupCommitInstanceEventObserver : IInstanceEventObserver
{
    /// <summary>Starts handling the event; the returned task completes when its effects are committed.</summary>
    ValueTask<Task> StartEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct);
}
