using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WapBridge.Core.Persistence;

namespace WapBridge.Web.Hosting;

/// <summary>Ready means the database answers a query, not just that the process is up.</summary>
public sealed class DatabaseHealthCheck(IDbContextFactory<WapBridgeDbContext> dbFactory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.Customers.AnyAsync(ct);
            return HealthCheckResult.Healthy($"{db.Database.ProviderName} reachable");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("database unreachable: " + e.Message);
        }
    }
}
