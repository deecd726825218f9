using Microsoft.Extensions.Logging;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;

namespace WapBridge.Core.Groups;

/// <summary>
/// Keeps the group cache in step with WhatsApp's group events. A group the instance was added to is read from WhatsApp
/// in the background: the event's handler must not wait on the instance's actor.
/// </summary>
public sealed class GroupEventObserver(GroupCache cache, IGrainFactory grains, LiveNotices notices, ILogger<GroupEventObserver> logger) : IInstanceEventObserver
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        switch (engineEvent)
        {
            case GroupParticipantsEvent participants:
                await cache.ApplyAsync(instance, participants, ct);
                // Added (again): what the group is now is not in the event, and a cached copy from before may be stale.
                if (participants.Action == GroupParticipantActions.Add && participants.Participants.Any(p => p.Phone is not null && p.Phone == instance.PhoneNumber))
                    _ = CacheNewGroupAsync(instance, participants.GroupJid);
                break;
            case GroupUpdateEvent update:
                await cache.PatchAsync(instance, update.GroupJid, row => GroupCache.Apply(row, update.Change), ct);
                break;
        }
    }

    private async Task CacheNewGroupAsync(Instance instance, string groupJid)
    {
        try
        {
            await Task.Yield();
            var group = await grains.GetGrain<IInstanceGrain>(instance.Code).GetGroupAsync(groupJid);
            await cache.UpsertAsync(instance, group, CancellationToken.None);
            // Read after the event's own notice went out: open views learn of the new group only from this one.
            notices.InstanceChanged(instance.CustomerId, instance.Code);
        }
        catch (Exception e)
        {
            logger.LogWarning("Reading group {Group} that instance {Instance} was added to failed: {Error}", groupJid, instance.Code, e.Message);
        }
    }
}
