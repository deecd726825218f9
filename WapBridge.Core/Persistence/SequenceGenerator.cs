using Microsoft.EntityFrameworkCore;

namespace WapBridge.Core.Persistence;

public static class SequenceGenerator
{
    /// <summary>
    /// Next value of <paramref name="name"/>. Must run inside the transaction that inserts the row
    /// using it: the UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) until commit,
    /// so two callers can never draw the same number.
    /// </summary>
    public static async Task<long> NextAsync(WapBridgeDbContext db, string name, CancellationToken ct = default)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("SequenceGenerator.NextAsync needs an open transaction.");

        var updated = await db.Sequences.Where(s => s.Name == name)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Value, x => x.Value + 1), ct);
        if (updated == 0)
        {
            db.Sequences.Add(new Sequence { Name = name, Value = 1 });
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            return 1;
        }
        return await db.Sequences.Where(s => s.Name == name).Select(s => s.Value).SingleAsync(ct);
    }
}
