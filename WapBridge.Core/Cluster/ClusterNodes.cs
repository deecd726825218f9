
namespace WapBridge.Core.Cluster;

/// <summary>One node as <c>admin.list_nodes</c> and the Admin "Nodes" panel show it (contract §10).</summary>
public sealed record NodeSummary(string Node, string Address, string Status, int Instances, DateTimeOffset StartedAt, DateTimeOffset LastSeen);

/// <summary>The cluster's nodes from its membership table, with the instances each holds now.</summary>
public sealed class ClusterNodes(IGrainFactory grains, NodeFence fence)
{
    public async Task<IReadOnlyList<NodeSummary>> ListAsync(CancellationToken ct = default)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false, CancellationToken.None);
        var held = await fence.HeldPerNodeAsync(ct);
        // A node restarted keeps its id under a new generation: its latest run is the one that counts.
        return hosts.GroupBy(h => h.SiloName)
            .Select(g => g.OrderByDescending(h => h.StartTime).First())
            .OrderBy(h => h.SiloName, StringComparer.Ordinal)
            .Select(h =>
            {
                var live = h.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown or SiloStatus.Stopping;
                return new NodeSummary(h.SiloName, h.SiloAddress.Endpoint.ToString(), StatusName(h.Status), live ? held.GetValueOrDefault(h.SiloName) : 0,
                    new DateTimeOffset(DateTime.SpecifyKind(h.StartTime, DateTimeKind.Utc)),
                    new DateTimeOffset(DateTime.SpecifyKind(h.IAmAliveTime > h.StartTime ? h.IAmAliveTime : h.StartTime, DateTimeKind.Utc)));
            }).ToList();
    }

    private static string StatusName(SiloStatus status) => status switch
    {
        SiloStatus.Active => "active",
        SiloStatus.Created or SiloStatus.Joining => "joining",
        SiloStatus.ShuttingDown or SiloStatus.Stopping => "stopping",
        _ => "dead",
    };
}
