using Microsoft.Extensions.Options;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Cluster;

/// <summary>Whether this node is a cluster of one by design (SQLite): then no other node can ever hold anything.</summary>
public sealed record ClusterTopology(bool SingleNode);

/// <summary>This node's view of the cluster's members, by node id (the Orleans silo name).</summary>
public sealed class ClusterView(IClusterMembershipService membership, ILocalSiloDetails silo, IOptions<NodeOptions> node)
{
    public string NodeId => node.Value.Id;

    public SiloAddress LocalSilo => silo.SiloAddress;

    /// <summary>Ids of the other nodes the cluster does not count as dead (joining, active or shutting down).</summary>
    public IReadOnlySet<string> OtherLiveNodes() => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status != SiloStatus.Dead && m.SiloAddress != silo.SiloAddress && m.Name != node.Value.Id)
        .Select(m => m.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>The node id of each silo the cluster counts as active.</summary>
    public IReadOnlyDictionary<SiloAddress, string> ActiveSilos() => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active).ToDictionary(m => m.SiloAddress, m => m.Name);

    /// <summary>This node is leaving and no other node is active: cluster-wide actors go down with it and cannot be reached any more.</summary>
    public bool IsLastNodeLeaving()
    {
        var snapshot = membership.CurrentSnapshot;
        return snapshot.GetSiloStatus(silo.SiloAddress) != SiloStatus.Active
            && !snapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && m.SiloAddress != silo.SiloAddress);
    }

    public IAsyncEnumerable<ClusterMembershipSnapshot> Updates => membership.MembershipUpdates;
}
