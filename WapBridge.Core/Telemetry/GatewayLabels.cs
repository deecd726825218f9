using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Telemetry;

/// <summary>The <c>customer</c> and <c>instance_id</c> labels of an instance.</summary>
public sealed record InstanceLabels(string InstanceCode, string CustomerCode);

/// <summary>
/// Customer and instance codes by row id, for metric labels. Codes never change once issued, so each is read from the
/// database once for the life of the process: recording a value on the hot path is a dictionary lookup.
/// </summary>
public sealed class GatewayLabels(IDbContextFactory<WapBridgeDbContext> dbFactory)
{
    private readonly ConcurrentDictionary<int, InstanceLabels> _instances = new();
    private readonly ConcurrentDictionary<int, string> _customers = new();

    /// <summary>The instance's labels, or null when it no longer exists.</summary>
    public ValueTask<InstanceLabels?> ForInstanceAsync(int instanceId) =>
        _instances.TryGetValue(instanceId, out var labels) ? ValueTask.FromResult<InstanceLabels?>(labels) : new(LoadInstanceAsync(instanceId));

    /// <summary>The customer's code, or null when it no longer exists.</summary>
    public ValueTask<string?> CustomerAsync(int customerId) =>
        _customers.TryGetValue(customerId, out var code) ? ValueTask.FromResult<string?>(code) : new(LoadCustomerAsync(customerId));

    private async Task<InstanceLabels?> LoadInstanceAsync(int instanceId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var row = await (from i in db.Instances.AsNoTracking()
                         join c in db.Customers.AsNoTracking() on i.CustomerId equals c.Id
                         where i.Id == instanceId
                         select new { i.Code, CustomerId = c.Id, CustomerCode = c.Code }).SingleOrDefaultAsync();
        if (row is null)
            return null;
        _customers.TryAdd(row.CustomerId, row.CustomerCode);
        return _instances.GetOrAdd(instanceId, new InstanceLabels(row.Code, row.CustomerCode));
    }

    private async Task<string?> LoadCustomerAsync(int customerId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var code = await db.Customers.AsNoTracking().Where(c => c.Id == customerId).Select(c => c.Code).SingleOrDefaultAsync();
        return code is null ? null : _customers.GetOrAdd(customerId, code);
    }
}
