using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>An instance's health as its page shows it: the judged health, and the zone its days (and budget) run in.</summary>
public sealed record InstanceHealthView(InstanceHealth Health, TimeZoneInfo Zone);

/// <summary>
/// The dashboard's reads and actions of account health (contract §12), scoped to one customer like
/// <see cref="InstanceService"/>: the health panel injects this instead of reading the database.
/// </summary>
public sealed class InstanceHealthDashboard(
    InstanceService instances,
    HealthService health,
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IGrainFactory grains,
    InstanceChangeFeed changes,
    TimeProvider time,
    ILogger<InstanceHealthDashboard> logger)
{
    /// <summary>The hours an override may last (contract §12 <c>instances.override_protection</c>).</summary>
    public const int MinOverrideHours = 1, MaxOverrideHours = 72, DefaultOverrideHours = 24;

    public async Task<InstanceHealthView> GetAsync(int customerId, string instanceCode, CancellationToken ct = default)
    {
        var instance = await instances.FindAsync(customerId, instanceCode, ct);
        return new InstanceHealthView(await health.GetAsync(instance.Id, ct), InstanceTimeZones.Of(instance));
    }

    /// <summary>
    /// The owner lifts the new-contact budget and the pause at danger for <paramref name="hours"/>: logged with
    /// <paramref name="actor"/> in the instance's history. Returns when the override ends.
    /// </summary>
    public async Task<DateTimeOffset> OverrideProtectionAsync(int customerId, string instanceCode, int hours, string actor, CancellationToken ct = default)
    {
        if (hours is < MinOverrideHours or > MaxOverrideHours)
            throw WapBridgeException.Invalid("hours", "invalid_hours", $"hours must be from {MinOverrideHours} to {MaxOverrideHours}");
        var instance = await instances.FindAsync(customerId, instanceCode, ct);
        var now = time.GetUtcNow();
        var until = now.AddHours(hours);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.ProtectionOverrideUntil, until), ct);
            var reason = $"protection overridden until {until:yyyy-MM-dd HH:mm} UTC by {actor}";
            db.InstanceStateChanges.Add(new InstanceStateChange { InstanceId = instance.Id, State = instance.State, Reason = reason.Length > 500 ? reason[..500] : reason, At = now });
            await db.SaveChangesAsync(ct);
        }
        logger.LogWarning("Protection of instance {Instance} overridden for {Hours} h (until {Until}) by {Actor}", instance.Code, hours, until, actor);
        // Sends held for the budget may go now.
        await grains.GetGrain<IInstanceGrain>(instance.Code).WakeOutboxAsync();
        changes.Publish(instance.Code);
        return until;
    }
}
