using WapBridge.Core.Instances;

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
    ProtectionOverride protection,
    InstanceChangeFeed changes)
{
    public async Task<InstanceHealthView> GetAsync(int customerId, string instanceCode, CancellationToken ct = default)
    {
        var instance = await instances.FindAsync(customerId, instanceCode, ct);
        return new InstanceHealthView(await health.GetAsync(instance.Id, ct), InstanceTimeZones.Of(instance));
    }

    /// <summary>
    /// The owner lifts the new-contact budget and the pause at danger for <paramref name="hours"/> (<see cref="ProtectionOverride"/>,
    /// logged with <paramref name="actor"/>); every open page of the instance hears of it. Returns when the override ends.
    /// </summary>
    public async Task<DateTimeOffset> OverrideProtectionAsync(int customerId, string instanceCode, int hours, string actor, CancellationToken ct = default)
    {
        var (code, until) = await protection.OverrideAsync(customerId, instanceCode, hours, actor, ct);
        changes.Publish(code);
        return until;
    }
}
