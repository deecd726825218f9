using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using WapBridge.Core.Common;

namespace WapBridge.Core.Cluster;

/// <summary>Instances go to the live node holding the fewest, never past <see cref="ClusterSettings.MaxInstancesPerNode"/>.</summary>
[Serializable, GenerateSerializer, Immutable, Alias("wapbridge.instance-placement")]
public sealed class InstancePlacement : PlacementStrategy;

[AttributeUsage(AttributeTargets.Class)]
public sealed class InstancePlacementAttribute() : PlacementAttribute(new InstancePlacement());

/// <summary>
/// Places instance actors by load: the sessions each node holds (from the fence in the database) plus the placements
/// this node decided moments ago and the database does not show yet, so a burst (a start, a fail-over) spreads.
/// </summary>
public sealed class InstancePlacementDirector(
    NodeFence fence,
    ClusterView cluster,
    IOptions<ClusterSettings> settings,
    TimeProvider time,
    ILogger<InstancePlacementDirector> logger) : IPlacementDirector
{
    public const string ClusterFull = "cluster_full";
    private static readonly TimeSpan RecentPlacement = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<(string Node, DateTimeOffset At)> _recent = new();
    private readonly SemaphoreSlim _turn = new(1, 1);

    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var candidates = context.GetCompatibleSilos(target);
        var names = cluster.ActiveSilos();
        // A membership view that knows none of them yet (a node starting): no load to compare.
        if (!candidates.Any(names.ContainsKey))
            return candidates.Contains(cluster.LocalSilo) ? cluster.LocalSilo : candidates[0];
        await _turn.WaitAsync();
        try
        {
            var now = time.GetUtcNow();
            while (_recent.TryPeek(out var oldest) && now - oldest.At > RecentPlacement)
                _recent.TryDequeue(out _);
            var held = await fence.HeldPerNodeAsync(CancellationToken.None);
            foreach (var (node, _) in _recent)
                held[node] = held.GetValueOrDefault(node) + 1;
            var cap = settings.Value.MaxInstancesPerNode > 0 ? settings.Value.MaxInstancesPerNode : int.MaxValue;
            var chosen = candidates
                .Where(names.ContainsKey)
                .Select(silo => (Silo: silo, Name: names[silo], Load: held.GetValueOrDefault(names[silo])))
                .Where(c => c.Load < cap)
                .OrderBy(c => c.Load).ThenBy(c => c.Silo == cluster.LocalSilo ? 0 : 1)
                .FirstOrDefault();
            if (chosen.Name is null)
            {
                logger.LogError("No node has room for instance {Instance}: every node holds {Cap} instances (WAPBRIDGE_Cluster__MaxInstancesPerNode)",
                    target.GrainIdentity.Key, cap);
                throw new WapBridgeException(ErrorKind.Conflict, ClusterFull,
                    $"Every node already holds {cap} instances (WAPBRIDGE_Cluster__MaxInstancesPerNode); add a node or raise the cap.");
            }
            _recent.Enqueue((chosen.Name, now));
            return chosen.Silo;
        }
        finally
        {
            _turn.Release();
        }
    }
}
