using Microsoft.EntityFrameworkCore;

namespace WapBridge.Core.Persistence;

public static class SequenceGenerator
{
    /// <summary>
    /// Next value of <paramref name="name"/>. Must run inside the transaction that inserts the row
    /// using it: the upsert takes the row lock (PostgreSQL) or the write lock (SQLite) until commit,
    /// so two callers can never draw the same number.
    /// </summary>
    public static async Task<long> NextAsync(WapBridgeDbContext db, string name, CancellationToken ct = default)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("SequenceGenerator.NextAsync needs an open transaction.");

        // One statement, the first value included: an UPDATE and then an INSERT when no row was there let two
        // transactions drawing a sequence's first number at once both insert (a duplicate key on PostgreSQL).
        // The upsert makes the second wait for the first's row lock and count on from it.
        var next = await db.Database.SqlQuery<long>($"""
            INSERT INTO "Sequences" ("Name", "Value") VALUES ({name}, 1)
            ON CONFLICT ("Name") DO UPDATE SET "Value" = "Sequences"."Value" + 1
            RETURNING "Value"
            """).ToListAsync(ct);
        return next.Single();
    }
}
