using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>
/// Judges the health of the instances hosted on this node every <see cref="HealthOptions.EvaluateInterval"/>, and an
/// instance at once when <see cref="Poke"/>d (WhatsApp restricted, banned or logged it out). A new level is stored
/// with a compare-and-set on the level read before, so when several nodes or passes judge the same change only one
/// stores it and tells the <see cref="IHealthLevelObserver"/>s (the webhook, the campaign pause): exactly once.
/// </summary>
public sealed class HealthMonitor(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    HealthService health,
    LocalInstances local,
    InstanceChangeFeed changes,
    IServiceProvider services,
    IOptions<NodeOptions> node,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILogger<HealthMonitor> logger) : BackgroundService
{
    private readonly Channel<int> _poked = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
    private IReadOnlyList<IHealthLevelObserver>? _observers;

    /// <summary>Judges the instance as soon as possible (after what changed its health is stored).</summary>
    public void Poke(int instanceId) => _poked.Writer.TryWrite(instanceId);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            Sweeps.RunAsync(SweepAsync, () => options.Value.EvaluateInterval, time, logger, LogLevel.Error, "Judging the health of this node's instances failed", stoppingToken),
            RunPokesAsync(stoppingToken));

    private async Task RunPokesAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var instanceId in _poked.Reader.ReadAllAsync(ct))
                await EvaluateQuietlyAsync(instanceId, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        var nodeId = node.Value.Id;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // The sessions open here, and the instances this node holds or last held without a session (logged out, banned):
        // a lock or ban shows as "restricted" even when no session is left to report it.
        var held = await db.Instances.Where(i => i.SessionNode == nodeId || (i.SessionNode == null && i.NodeId == nodeId)).Select(i => i.Id).ToListAsync(ct);
        foreach (var instanceId in local.OpenSessions().Select(s => s.InstanceId).Union(held))
            await EvaluateQuietlyAsync(instanceId, ct);
    }

    private async Task EvaluateQuietlyAsync(int instanceId, CancellationToken ct)
    {
        try
        {
            await EvaluateAsync(instanceId, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogError(e, "Judging the health of instance {InstanceId} failed", instanceId);
        }
    }

    /// <summary>Judges the instance now and stores its score; returns the change of level this call reported, if any.</summary>
    public async Task<HealthLevelChange?> EvaluateAsync(int instanceId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId, ct);
        if (instance is null)
            return null;
        var judged = await health.GetAsync(db, instance, ct);
        var previous = instance.HealthLevel;
        if (previous == judged.Level)
        {
            if (instance.HealthScore != judged.Score)
                await db.Instances.Where(i => i.Id == instanceId && i.HealthLevel == previous)
                    .ExecuteUpdateAsync(u => u.SetProperty(i => i.HealthScore, judged.Score), ct);
            return null;
        }
        var stored = await db.Instances.Where(i => i.Id == instanceId && i.HealthLevel == previous).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.HealthLevel, judged.Level)
            .SetProperty(i => i.HealthScore, judged.Score)
            .SetProperty(i => i.HealthChangedAt, time.GetUtcNow()), ct);
        if (stored == 0)
            return null; // another node or pass stored a change first and tells of it
        logger.Log(judged.Level is HealthLevels.Danger or HealthLevels.Restricted ? LogLevel.Warning : LogLevel.Information,
            "Health of instance {Instance} went from {Previous} to {Level} (score {Score}): {Reasons}",
            instance.Code, previous ?? "(unjudged)", judged.Level, judged.Score, string.Join(", ", judged.Reasons.Select(r => r.Code)));
        changes.Publish(instance.Code);
        var change = new HealthLevelChange(instance.Id, instance.CustomerId, instance.Code, previous, judged);
        // Resolved on first use: observers (webhooks, campaigns) depend on services that themselves observe instance
        // events, which poke this monitor.
        _observers ??= services.GetServices<IHealthLevelObserver>().ToList();
        foreach (var observer in _observers)
        {
            try
            {
                await observer.LevelChangedAsync(change, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "{Observer} failed on the health change of instance {Instance} to {Level}", observer.GetType().Name, instance.Code, judged.Level);
            }
        }
        return change;
    }
}

/// <summary>Pokes <see cref="HealthMonitor"/> when WhatsApp restricted, banned, logged out or let back in an instance.</summary>
public sealed class HealthEventObserver(HealthMonitor monitor) : IInstanceEventObserver
{
    public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        if (engineEvent is AccountRestrictedEvent or DisconnectedEvent or LoggedOutEvent or ConnectedEvent)
            monitor.Poke(instance.Id);
        return Task.CompletedTask;
    }
}
