using Microsoft.Extensions.Logging;
using WapBridge.Core.Cluster;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Overview;

/// <summary>The Admin's part of the Overview: every node of the cluster, and the bridge processes of this node.</summary>
public sealed class ClusterOverview(ClusterNodes nodes, IBridgeProcesses bridges, ILogger<ClusterOverview> logger)
{
    public async Task<ClusterFigures> ReadAsync(CancellationToken ct = default)
    {
        IReadOnlyList<NodeSummary> list = [];
        string? error = null;
        try
        {
            list = await nodes.ListAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The membership table can be briefly unreachable (a database restart): the rest of the page still shows.
            logger.LogWarning(e, "The cluster's nodes could not be read for the Overview");
            error = "The cluster's membership could not be read: " + e.Message;
        }
        return new ClusterFigures(list, error, bridges.Current(), bridges.Restarts);
    }
}
