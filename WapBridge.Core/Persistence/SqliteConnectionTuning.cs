using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
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

    // Both settings belong to the native connection and survive its trips through the pool, so they are set once
    // per native connection, not on every Open (which is every DbContext: that was a measurable share of each query).
    private static readonly ConditionalWeakTable<object, object> Tuned = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        var native = (connection as SqliteConnection)?.Handle;
        if (native is not null && Tuned.TryGetValue(native, out _))
            return;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }
        if (native is not null)
            Tuned.AddOrUpdate(native, native);
    }
}
