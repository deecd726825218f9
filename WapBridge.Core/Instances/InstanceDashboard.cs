using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>What the dashboard shows of one instance in one read: its details, whether it is the default, and its pending QR code.</summary>
/// <param name="SupportsPairingCode">Whether its engine can pair with a code instead of a QR scan (false for an engine no longer installed).</param>
public sealed record InstanceView(InstanceDetails Details, bool IsDefault, PendingQr? Qr, bool SupportsPairingCode);

/// <summary>
/// The dashboard's reads of instances, each scoped to one customer like <see cref="InstanceService"/>: another customer's
/// instance does not exist here either. Components inject this instead of querying the database.
/// </summary>
public sealed class InstanceDashboard(InstanceService instances, EngineRegistry engines, IDbContextFactory<WapBridgeDbContext> dbFactory)
{
    public async Task<InstanceView> GetAsync(int customerId, string? instanceCode, CancellationToken ct = default)
    {
        var details = await instances.GetAsync(customerId, instanceCode, ct);
        var isDefault = string.Equals(await DefaultCodeAsync(customerId, ct), details.InstanceId, StringComparison.Ordinal);
        PendingQr? qr = null;
        if (details.Status == InstanceState.Qr)
        {
            try
            {
                qr = await instances.GetQrAsync(customerId, details.InstanceId, ct);
            }
            catch (WapBridgeException e) when (e.Kind == ErrorKind.NotFound)
            {
                // Rotating right now, or expired: the change feed brings the next one.
            }
        }
        return new InstanceView(details, isDefault, qr, SupportsPairingCode(details.Engine));
    }

    /// <summary>The code of the customer's default instance (the one that sends when a request names none), or null.</summary>
    public async Task<string?> DefaultCodeAsync(int customerId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Customers.AsNoTracking().Where(c => c.Id == customerId)
            .Join(db.Instances.Where(i => i.CustomerId == customerId), c => c.DefaultInstanceId, i => (int?)i.Id, (c, i) => i.Code)
            .FirstOrDefaultAsync(ct);
    }

    private bool SupportsPairingCode(string engine)
    {
        try
        {
            return engines.Get(engine).SupportsPairingCode;
        }
        catch (WapBridgeException)
        {
            return false;
        }
    }
}
