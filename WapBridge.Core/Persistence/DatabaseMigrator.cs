using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Persistence;

public static class DatabaseMigrator
{
    /// <summary>Applies pending migrations; on SQLite also switches the file to WAL so readers never block the writer.</summary>
    public static async Task MigrateAsync(IDbContextFactory<WapBridgeDbContext> factory, ILogger logger, CancellationToken ct = default)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count > 0)
            logger.LogInformation("Applying {Count} database migrations on {Provider}: {Migrations}", pending.Count, db.Database.ProviderName, pending);
        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }
}
