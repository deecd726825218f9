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
