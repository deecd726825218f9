using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// At start-up, picks up the running campaigns of this node's instances: a previous process may have died
/// mid-run, holding a lease nobody else will release. Only this node runs these campaigns, so its leases are void.
/// </summary>
public sealed class CampaignRecovery(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    ICampaignScheduler scheduler,
    IOptions<NodeOptions> node,
    ILogger<CampaignRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var nodeId = node.Value.Id;
        var running = db.Campaigns.Where(c => c.State == CampaignStates.Running && db.Instances.Any(i => i.Id == c.InstanceId && i.NodeId == nodeId));
        await running.ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, (DateTimeOffset?)null), ct);
        var ids = await running.Select(c => c.Id).ToListAsync(ct);
        foreach (var id in ids)
            scheduler.RunNow(id);
        if (ids.Count > 0)
            logger.LogInformation("Resuming {Count} running campaigns", ids.Count);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
