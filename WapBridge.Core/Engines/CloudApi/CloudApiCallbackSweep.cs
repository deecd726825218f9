using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Every few seconds, on every node: the instances whose session this node holds and that have callbacks waiting are
/// told to process them (callbacks of a crash, of an instance that was offline, and those waiting to be tried again);
/// hourly, callbacks processed more than <see cref="Retention"/> ago are deleted.
/// </summary>
public sealed class CloudApiCallbackSweep(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    CloudApiCallbackInbox inbox,
    CloudApiCallbackProcessor processor,
    IOptions<NodeOptions> node,
    TimeProvider time,
    ILogger<CloudApiCallbackSweep> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Sweeps.RunAsync(SweepAsync, () => Interval, time, logger, LogLevel.Warning, "Sweeping Cloud API callbacks failed", stoppingToken);

    public async Task SweepAsync(CancellationToken ct)
    {
        var me = node.Value.Id;
        List<string> waiting;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            waiting = await db.CloudApiCallbacks.Where(c => c.ProcessedAt == null)
                .Join(db.Instances.Where(i => i.SessionNode == me), c => c.InstanceId, i => i.Id, (c, i) => i.Code)
                .Distinct().ToListAsync(ct);
        foreach (var code in waiting)
            inbox.Nudge(code);

        if (time.GetUtcNow() - _lastPurge < PurgeInterval)
            return;
        _lastPurge = time.GetUtcNow();
        var deleted = await processor.PurgeAsync(Retention, ct);
        if (deleted > 0)
            logger.LogInformation("Deleted {Count} Cloud API callbacks processed more than {Retention} ago", deleted, Retention);
    }
}
