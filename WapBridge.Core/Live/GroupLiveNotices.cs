using WapBridge.Core.Engines;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Live;

/// <summary>
/// Tells live views an instance's groups changed (members, subject, settings), on the instance's topic: the instance
/// page re-reads its group list from the cache. Registered after the group cache's own observer, so the cache already
/// holds the change when a view re-reads it (observers run one after another, in registration order).
/// </summary>
public sealed class GroupLiveNotices(LiveNotices notices) : IInstanceEventObserver
{
    public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        if (engineEvent is GroupParticipantsEvent or GroupUpdateEvent)
            notices.InstanceChanged(instance.CustomerId, instance.Code);
        return Task.CompletedTask;
    }
}
