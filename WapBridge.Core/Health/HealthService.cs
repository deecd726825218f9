using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>An instance's health now (contract §12 <c>health</c>): its signals judged, its new-contact budget, restriction and override.</summary>
public sealed class HealthService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceService instances,
    HealthSignalReader signals,
    NewContactBudget budget,
    TimeProvider time)
{
    /// <summary>The caller's instance; another customer's is the same 404 as every instance call.</summary>
    public async Task<InstanceHealth> GetAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        var instance = await instances.FindAsync(customerId, instanceCode, ct);
        return await GetAsync(instance.Id, ct);
    }

    public async Task<InstanceHealth> GetAsync(int instanceId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.ByIdAsync(instanceId, ct);
        return await GetAsync(db, instance, ct);
    }

    internal async Task<InstanceHealth> GetAsync(WapBridgeDbContext db, Instance instance, CancellationToken ct)
    {
        var read = await signals.ReadAsync(db, instance, ct);
        var (score, level, reasons) = HealthScore.Evaluate(read);
        var status = await budget.StatusAsync(instance, ct);
        var now = time.GetUtcNow();
        return new InstanceHealth(score, level, reasons, status, read.RestrictionEnds,
            instance.ProtectionOverrideUntil > now ? instance.ProtectionOverrideUntil : null);
    }
}
