using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Keeps the cluster's running campaigns moving whatever happens to their jobs and nodes: every node re-runs any
/// running campaign that is overdue and unleased, e.g. because its runner's node died (its lease ran out), or its job
/// was lost by the job store or never enqueued (the lease makes an extra run harmless), and deletes any half-created
/// campaign whose creation lease ran out (its creator died).
/// </summary>
public sealed class CampaignRecovery(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    CampaignService campaigns,
    ClusterView cluster,
    ClusterTopology topology,
    ClusterReadiness readiness,
    ICampaignScheduler scheduler,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<CampaignRecovery> logger) : BackgroundService
{
    /// <summary>
    /// At the start of a node that is alone in its cluster (the single-server default, or the first node back): no
    /// runner can be alive anywhere, so running campaigns resume now instead of when their leases run out, and
    /// half-created campaigns are deleted.
    /// </summary>
    private async Task RecoverAloneAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resumed = await Running(db).ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, (DateTimeOffset?)null), ct);
        if (resumed > 0)
            logger.LogInformation("Resuming {Count} running campaigns", resumed);
        await DiscardAsync(db.Campaigns.Where(c => c.State == CampaignState.Creating), ct);
        await RunOverdueAsync(ct);
    }

    private async Task DiscardAsync(IQueryable<Campaign> unfinished, CancellationToken ct)
    {
        var found = await unfinished.Select(c => new { c.Id, c.Code }).ToListAsync(ct);
        foreach (var campaign in found)
        {
            await campaigns.DiscardUnfinishedAsync(campaign.Id, ct);
            logger.LogWarning("Deleted campaign {Campaign}: its creation was interrupted before all its recipients were stored", campaign.Code);
        }
    }

    /// <summary>A cluster of one by design recovers before the node serves anyone, as a single server always did.</summary>
    public override async Task StartAsync(CancellationToken ct)
    {
        if (topology.SingleNode)
            await RecoverAloneAsync(ct);
        await base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await readiness.WaitForSiloAsync(stoppingToken);
        try
        {
            // On PostgreSQL only the first node back knows it is alone, once it sees the cluster.
            if (!topology.SingleNode && cluster.OtherLiveNodes().Count == 0)
                await RecoverAloneAsync(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogError(e, "Resuming campaigns at start failed; the sweep resumes them when their leases run out");
        }
        await Sweeps.RunAsync(RunOverdueAsync, () => options.Value.SweepInterval, time, logger, LogLevel.Warning,
            "Campaign sweep failed; trying again", stoppingToken);
    }

    private async Task RunOverdueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var overdue = now - options.Value.SweepInterval;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await Running(db)
            .Where(c => (c.RunnerLeaseUntil == null || c.RunnerLeaseUntil < now) && (c.NextSendAt == null || c.NextSendAt < overdue))
            .Select(c => c.Id).ToListAsync(ct);
        foreach (var id in ids)
            scheduler.RunNow(id);
        await DiscardAsync(db.Campaigns.Where(c => c.State == CampaignState.Creating && c.RunnerLeaseUntil < now), ct);
    }

    private static IQueryable<Campaign> Running(WapBridgeDbContext db) => db.Campaigns.Where(c => c.State == CampaignState.Running);
}
