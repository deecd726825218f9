using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Live;

/// <summary>
/// The producers' side of <see cref="LiveChanges"/>: one typed call per kind of change. A producer that knows only an
/// id has its owner read once and remembered (neither an instance nor a campaign ever changes owner; the memory is
/// bounded by the instances and campaigns there are), off the producer's path.
/// </summary>
public sealed class LiveNotices(LiveChanges live, IDbContextFactory<WapBridgeDbContext> dbFactory, LocalInstances local, ILogger<LiveNotices> logger)
{
    private readonly ConcurrentDictionary<int, (int CustomerId, string Code)> _instancesById = new();
    private readonly ConcurrentDictionary<string, int> _instancesByCode = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, (int CustomerId, string Code)> _campaigns = new();

    public void InstanceChanged(int customerId, string code) => live.Publish(new LiveChange(LiveTopics.Instance, customerId, code));

    public void InstanceChanged(string code)
    {
        if (!_instancesByCode.TryGetValue(code, out var owner) && local.Snapshot(code) is { } snapshot)
            owner = _instancesByCode[code] = snapshot.CustomerId;
        if (owner != 0)
        {
            InstanceChanged(owner, code);
            return;
        }
        Resolve(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            // Gone (deleted): nobody's list shows it any more but an Admin's.
            var id = await db.Instances.AsNoTracking().Where(i => i.Code == code).Select(i => (int?)i.CustomerId).SingleOrDefaultAsync(ct);
            if (id is { } customerId)
                _instancesByCode[code] = customerId;
            live.Publish(new LiveChange(LiveTopics.Instance, id, code));
        });
    }

    public void MessagesChanged(int customerId, string instanceCode) => live.Publish(new LiveChange(LiveTopics.Messages, customerId, instanceCode));

    public void MessagesChanged(int instanceId)
    {
        if (_instancesById.TryGetValue(instanceId, out var known))
        {
            MessagesChanged(known.CustomerId, known.Code);
            return;
        }
        Resolve(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Instances.AsNoTracking().Where(i => i.Id == instanceId).Select(i => new { i.CustomerId, i.Code }).SingleOrDefaultAsync(ct);
            if (row is null)
                return;
            _instancesById[instanceId] = (row.CustomerId, row.Code);
            MessagesChanged(row.CustomerId, row.Code);
        });
    }

    public void PresenceChanged(int customerId, string instanceCode, string chat, string state) =>
        live.Publish(new LiveChange(LiveTopics.Presence, customerId, PresenceSubject(instanceCode, chat, state)));

    public static string PresenceSubject(string instanceCode, string chat, string state) => $"{instanceCode}|{chat}|{state}";

    /// <summary>The instance, chat and state a presence notice's subject names; null for a merged notice.</summary>
    public static (string Instance, string Chat, string State)? ReadPresence(LiveChange change) =>
        change is { Topic: LiveTopics.Presence, Subject: { } subject } && subject.Split('|') is [var instance, var chat, var state]
            ? (instance, chat, state) : null;

    public void CampaignChanged(int customerId, string code) => live.Publish(new LiveChange(LiveTopics.Campaign, customerId, code));

    public void CampaignChanged(long campaignId)
    {
        if (_campaigns.TryGetValue(campaignId, out var known))
        {
            CampaignChanged(known.CustomerId, known.Code);
            return;
        }
        Resolve(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId).Select(c => new { c.CustomerId, c.Code }).SingleOrDefaultAsync(ct);
            if (row is null)
                return;
            _campaigns[campaignId] = (row.CustomerId, row.Code);
            CampaignChanged(row.CustomerId, row.Code);
        });
    }

    /// <summary>Membership changed: every node hears that itself, so it is not relayed.</summary>
    public void NodesChanged() => live.PublishHere(new LiveChange(LiveTopics.Nodes, null, null));

    private void Resolve(Func<CancellationToken, Task> work) => _ = Task.Run(async () =>
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await work(bound.Token);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "A live change could not be told: its owner was not read");
        }
    });
}
