using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>Engine credentials live encrypted in the instance row, so any node can resume the session.</summary>
internal sealed class InstanceCredentialStore(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtector protector, int instanceId)
    : IEngineCredentialStore
{
    /// <summary>The Data Protection purpose the credentials are sealed with.</summary>
    public const string Purpose = "WapBridge.Instances.EngineCredentials";

    public async Task<string?> LoadAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var sealedValue = await db.Instances.Where(i => i.Id == instanceId).Select(i => i.EngineCredentials).SingleOrDefaultAsync(ct);
        return sealedValue is null ? null : protector.Unprotect(sealedValue);
    }

    public async Task SaveAsync(string? credentials, CancellationToken ct = default)
    {
        var sealedValue = credentials is null ? null : protector.Protect(credentials);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Instances.Where(i => i.Id == instanceId).ExecuteUpdateAsync(s => s.SetProperty(i => i.EngineCredentials, sealedValue), ct);
    }
}
