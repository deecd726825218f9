using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace WapBridge.Core.Persistence;

/// <summary>
/// Per-connection SQLite settings. The busy timeout makes a writer that finds the database locked wait
/// inside SQLite (sleeping a millisecond or a few) instead of failing back to Microsoft.Data.Sqlite,
/// whose own retry sleeps 150 ms at a time: under concurrent writers that sleep dominated every latency.
/// </summary>
internal sealed class SqliteConnectionTuning : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }
}
