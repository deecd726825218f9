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
/// leases a dead predecessor left (only this node runs these campaigns); afterwards it re-runs any running
/// campaign that is overdue and unleased, e.g. because its job was lost by the job store or never enqueued.
/// The lease makes an extra run harmless.
/// </summary>
public sealed class CampaignRecovery(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
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
        }
        await base.StartAsync(ct);
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
    }

    private IQueryable<Campaign> Running(WapBridgeDbContext db)
    {
        var nodeId = node.Value.Id;
        return db.Campaigns.Where(c => c.State == CampaignStates.Running && db.Instances.Any(i => i.Id == c.InstanceId && i.NodeId == nodeId));
    }
}
