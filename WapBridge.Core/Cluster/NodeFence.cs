using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Cluster;

/// <summary>
/// The database fence around WhatsApp connections: a node takes an instance over only from nobody, from itself, or
/// from a node the cluster no longer counts as alive, and every take-over raises the instance's epoch. A node whose
/// epoch is gone stops writing the instance and closes its session (<see cref="InstanceGrain"/>), so even while
/// membership changes two nodes never hold one connection (WhatsApp would drop both with "conflict").
/// </summary>
public sealed class NodeFence(IDbContextFactory<WapBridgeDbContext> dbFactory, ClusterView cluster, IOptions<NodeOptions> node)
{
    /// <returns>The new epoch, or null when another live node holds the instance.</returns>
    public async Task<long?> ClaimAsync(int instanceId, CancellationToken ct)
    {
        var me = node.Value.Id;
        var alive = cluster.OtherLiveNodes();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var holder = await db.Instances.AsNoTracking().Where(i => i.Id == instanceId)
                .Select(i => new { i.SessionNode, i.SessionEpoch }).SingleOrDefaultAsync(ct);
            if (holder is null)
                return null;
            if (holder.SessionNode is { } other && other != me && alive.Contains(other))
                return null;
            // Compare-and-set on the epoch: of two nodes claiming at once, one wins and the other reads the winner.
            var epoch = holder.SessionEpoch + 1;
            var taken = await db.Instances.Where(i => i.Id == instanceId && i.SessionEpoch == holder.SessionEpoch)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(i => i.SessionNode, me)
                    .SetProperty(i => i.NodeId, me)
                    .SetProperty(i => i.SessionEpoch, epoch), ct);
            if (taken == 1)
                return epoch;
        }
        return null;
    }

    /// <summary>Lets the next node take the instance at once (a clean close); a no-op when it was taken over already.</summary>
    public async Task ReleaseAsync(int instanceId, long epoch)
    {
        var me = node.Value.Id;
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Instances.Where(i => i.Id == instanceId && i.SessionNode == me && i.SessionEpoch == epoch)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.SessionNode, (string?)null));
    }

    /// <summary>How many sessions each node holds now (placement's load, the node list's count).</summary>
    public async Task<Dictionary<string, int>> HeldPerNodeAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Instances.Where(i => i.SessionNode != null).GroupBy(i => i.SessionNode!)
            .Select(g => new { Node = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Node, g => g.Count, ct);
    }

    /// <summary>Of the sessions open here, those whose fence another node holds now (they must close).</summary>
    public async Task<IReadOnlyList<string>> LostAsync(IReadOnlyList<(string Code, int InstanceId, long Epoch)> open, CancellationToken ct)
    {
        if (open.Count == 0)
            return [];
        var me = node.Value.Id;
        var ids = open.Select(o => o.InstanceId).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Instances.AsNoTracking().Where(i => ids.Contains(i.Id))
            .Select(i => new { i.Id, i.SessionNode, i.SessionEpoch }).ToDictionaryAsync(i => i.Id, ct);
        return open.Where(o => !rows.TryGetValue(o.InstanceId, out var row) || row.SessionNode != me || row.SessionEpoch != o.Epoch)
            .Select(o => o.Code).ToList();
    }
}
