using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Cluster;

/// <summary>
/// Keeps every instance that should be connected connected somewhere: at start and whenever membership changes (a
/// node joined, left or was declared dead), it asks each such instance's actor to resume, which places it on a live
/// node. It also closes sessions whose fence another node took, and keeps this node subscribed to live changes.
/// </summary>
public sealed class ClusterSupervisor(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IGrainFactory grains,
    ClusterView cluster,
    NodeFence fence,
    LocalInstances local,
    LiveChanges live,
    LiveNotices notices,
    IHostApplicationLifetime lifetime,
    ClusterReadiness readiness,
    TimeProvider time,
    ILogger<ClusterSupervisor> logger) : BackgroundService
{
    private static readonly TimeSpan FenceCheck = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FeedRenewal = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ResumeRetry = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan SafetyPass = TimeSpan.FromMinutes(1);
    private readonly AsyncSignal _membershipChanged = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitForSiloAsync(stoppingToken);
            if (RefuseDuplicateNodeId())
                return;
            await Task.WhenAll(
                WatchMembershipAsync(stoppingToken),
                ResumeLoopAsync(stoppingToken),
                RepeatAsync(CloseFencedOffAsync, FenceCheck, "Checking the sessions' fences failed", stoppingToken),
                RepeatAsync(_ => live.SubscribeNodeAsync(), FeedRenewal, "Renewing the live change subscription failed", stoppingToken));
        }
        finally
        {
            // Requests never wait on a supervisor that stopped or failed.
            readiness.FirstResumeDone();
        }
    }

    /// <summary>A second live node with this node's id would fight over the same instances: it is refused.</summary>
    private bool RefuseDuplicateNodeId()
    {
        var twin = cluster.ActiveSilos().FirstOrDefault(s => s.Value == cluster.NodeId && s.Key != cluster.LocalSilo);
        if (twin.Key is null)
            return false;
        logger.LogCritical("Node id {Node} is already used by the live node at {Address}; set a unique WAPBRIDGE_Node__Id for each node. Stopping.",
            cluster.NodeId, twin.Key);
        Environment.ExitCode = 3;
        // Stopping while the host still starts would fail the start (an unhandled exception and exit code 134, not 3).
        lifetime.ApplicationStarted.Register(lifetime.StopApplication);
        return true;
    }

    private async Task WatchMembershipAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var snapshot in cluster.Updates.WithCancellation(ct))
            {
                logger.LogInformation("Cluster membership {Version}: {Members}", snapshot.Version,
                    string.Join(", ", snapshot.Members.Values.Select(m => $"{m.Name}@{m.SiloAddress.Endpoint} {m.Status}")));
                _membershipChanged.Wake();
                notices.NodesChanged();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Resumes at start and after every membership change; a pass that left instances unplaced runs again soon.</summary>
    private async Task ResumeLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var complete = false;
            try
            {
                complete = await ResumeAllAsync(ct);
                await live.SubscribeNodeAsync();
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "Resuming instances failed; trying again");
            }
            readiness.FirstResumeDone();
            try
            {
                // A minute at most between passes: a safety net should a membership change go unheard.
                await _membershipChanged.WaitAsync(complete ? SafetyPass : ResumeRetry, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <returns>Whether every instance that should be connected is open on a live node now.</returns>
    private async Task<bool> ResumeAllAsync(CancellationToken ct)
    {
        var alive = cluster.OtherLiveNodes();
        var me = cluster.NodeId;
        List<string> orphans;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var candidates = await db.Instances.AsNoTracking()
                .Where(i => i.EngineCredentials != null
                    && (i.State == InstanceState.Connected || i.State == InstanceState.Connecting || i.State == InstanceState.Disconnected))
                .Select(i => new { i.Code, i.SessionNode }).ToListAsync(ct);
            // Held by a live node: that node has it. Ours, or nobody's, or a dead node's: it is resumed (and placed) now.
            orphans = candidates.Where(c => c.SessionNode is null || c.SessionNode == me || !alive.Contains(c.SessionNode))
                .Select(c => c.Code).ToList();
        }
        if (orphans.Count == 0)
            return true;
        int failed = 0, opened = 0;
        await Parallel.ForEachAsync(orphans, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (code, _) =>
        {
            try
            {
                if (await grains.GetGrain<IInstanceGrain>(code).ResumeAsync())
                    Interlocked.Increment(ref opened);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref failed);
                logger.LogWarning("Instance {Instance} could not be resumed yet: {Reason}", code, e.Message);
            }
        });
        if (opened > 0 || failed > 0)
            logger.LogInformation("Resumed {Count} instances on the cluster from node {Node}{Failed}", opened, me,
                failed > 0 ? $"; {failed} wait for another try" : "");
        return failed == 0;
    }

    private async Task CloseFencedOffAsync(CancellationToken ct)
    {
        foreach (var code in await fence.LostAsync(local.OpenSessions(), ct))
        {
            logger.LogWarning("Instance {Instance} is held by another node now; closing its session here", code);
            await grains.GetGrain<IInstanceGrain>(code).CloseAsync();
        }
    }

    private async Task RepeatAsync(Func<CancellationToken, Task> work, TimeSpan every, string failure, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, time, ct);
                await work(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "{Failure}", failure);
            }
        }
    }
}
