using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Contacts;

/// <summary>Hears of a LID ↔ phone pair an instance learned, in the unit of work that stores it.</summary>
public interface ILidMappingObserver
{
    /// <summary>Adds what the pair causes to <paramref name="db"/> without saving; true if anything was added.</summary>
    Task<bool> AddAsync(WapBridgeDbContext db, int instanceId, string lid, string phone, CancellationToken ct);

    /// <summary>Called once what <see cref="AddAsync"/> added is committed.</summary>
    void Committed();
}

/// <summary>Reads and writes the LID ↔ phone pairs instances learn (<see cref="LidMapping"/>).</summary>
public static class LidMappings
{
    /// <summary>
    /// Stores (or corrects) the phone of <paramref name="lid"/> (its user part) for the instance; what
    /// <paramref name="observers"/> add for a pair learned is committed with it.
    /// </summary>
    public static async Task SaveAsync(IDbContextFactory<WapBridgeDbContext> dbFactory, IReadOnlyList<ILidMappingObserver> observers,
        int instanceId, string lid, string phone, DateTimeOffset now, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.LidMappings.SingleOrDefaultAsync(m => m.InstanceId == instanceId && m.Lid == lid, ct);
        if (row is null)
            db.LidMappings.Add(new LidMapping { InstanceId = instanceId, Lid = lid, PhoneNumber = phone, LearnedAt = now });
        else if (row.PhoneNumber != phone)
            (row.PhoneNumber, row.LearnedAt) = (phone, now);
        else
            return;
        var announced = new List<ILidMappingObserver>();
        foreach (var observer in observers)
            if (await observer.AddAsync(db, instanceId, lid, phone, ct))
                announced.Add(observer);
        try
        {
            await db.SaveChangesAsync(ct);
            foreach (var observer in announced)
                observer.Committed();
        }
        catch (DbUpdateException) when (row is null)
        {
            // Another node stored the same LID first: theirs is as good as ours.
        }
    }

    /// <summary>The known pairs of the instances, both ways: LID user part → phone, phone → LID user part.</summary>
    public static async Task<(Dictionary<(int, string), string> PhoneByLid, Dictionary<(int, string), string> LidByPhone)> LoadAsync(
        WapBridgeDbContext db, IReadOnlyCollection<int> instanceIds, IReadOnlyCollection<string> lids, IReadOnlyCollection<string> phones)
    {
        var phoneByLid = new Dictionary<(int, string), string>();
        var lidByPhone = new Dictionary<(int, string), string>();
        if (lids.Count == 0 && phones.Count == 0)
            return (phoneByLid, lidByPhone);
        var rows = await db.LidMappings.AsNoTracking()
            .Where(m => instanceIds.Contains(m.InstanceId) && (lids.Contains(m.Lid) || phones.Contains(m.PhoneNumber)))
            .Select(m => new { m.InstanceId, m.Lid, m.PhoneNumber })
            .ToListAsync();
        foreach (var m in rows)
        {
            phoneByLid[(m.InstanceId, m.Lid)] = m.PhoneNumber;
            lidByPhone[(m.InstanceId, m.PhoneNumber)] = m.Lid;
        }
        return (phoneByLid, lidByPhone);
    }
}
