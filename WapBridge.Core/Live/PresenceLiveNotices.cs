using WapBridge.Core.Engines;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Live;

/// <summary>Tells live views a contact is typing (or stopped): presence is shown, never stored.</summary>
public sealed class PresenceLiveNotices(LiveNotices notices) : IInstanceEventObserver
{
    public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        if (engineEvent is PresenceEvent presence)
            notices.PresenceChanged(instance.CustomerId, instance.Code, presence.Chat, presence.State);
        return Task.CompletedTask;
    }
}
