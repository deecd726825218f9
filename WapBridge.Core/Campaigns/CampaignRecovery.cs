using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Keeps this node's running campaigns moving whatever happens to their jobs. At start-up it voids the
/// leases a dead predecessor left (only this node runs these campaigns) and deletes the campaigns it left
/// half-created; afterwards it re-runs any running campaign that is overdue and unleased, e.g. because its
/// job was lost by the job store or never enqueued (the lease makes an extra run harmless), and deletes any
/// half-created campaign whose creation lease ran out (its creator died on another node).
/// </summary>
public sealed class CampaignRecovery(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    CampaignService campaigns,
    ICampaignScheduler scheduler,
    IOptions<NodeOptions> node,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<CampaignRecovery> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken ct)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var resumed = await Running(db).ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, (DateTimeOffset?)null), ct);
            if (resumed > 0)
                logger.LogInformation("Resuming {Count} running campaigns", resumed);
            var nodeId = node.Value.Id;
            // Only this node's: another node may be creating a campaign for an instance it does not host.
            await DiscardAsync(db.Campaigns.Where(c => c.State == CampaignStates.Creating
                && db.Instances.Any(i => i.Id == c.InstanceId && i.NodeId == nodeId)), ct);
        }
        await base.StartAsync(ct);
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

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Sweeps.RunAsync(RunOverdueAsync, () => options.Value.SweepInterval, time, logger, LogLevel.Warning,
            "Campaign sweep failed; trying again", stoppingToken);

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
        await DiscardAsync(db.Campaigns.Where(c => c.State == CampaignStates.Creating && c.RunnerLeaseUntil < now), ct);
    }

    private IQueryable<Campaign> Running(WapBridgeDbContext db)
    {
        var nodeId = node.Value.Id;
        return db.Campaigns.Where(c => c.State == CampaignStates.Running && db.Instances.Any(i => i.Id == c.InstanceId && i.NodeId == nodeId));
    }
}
