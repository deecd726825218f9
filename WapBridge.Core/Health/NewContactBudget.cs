using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>An instance's new-contact budget on its current local day.</summary>
/// <param name="OverriddenUntil">The owner lifted the budget until then (a logged action); null when it applies.</param>
public sealed record NewContactBudgetStatus(int Allowance, int UsedToday, DateTimeOffset ResetsAt, int? WarmUpDay, DateTimeOffset? OverriddenUntil = null)
{
    public int LeftToday => Math.Max(0, Allowance - UsedToday);
}

/// <summary>What the outbox or a campaign may do with a message to one number.</summary>
/// <param name="Known">The number already has a conversation with the instance: nothing was counted.</param>
/// <param name="HoldUntil">Not allowed now: the budget is spent until this local midnight.</param>
public sealed record NewContactClaim(bool Allowed, bool Known, DateTimeOffset? HoldUntil);

/// <summary>
/// Counts first messages to contacts an instance never talked with, per local day, against <see cref="WarmUpSchedule"/>
/// (contract §12). The one writer and reader of <see cref="KnownContact"/>.
/// </summary>
public sealed class NewContactBudget(IDbContextFactory<WapBridgeDbContext> dbFactory, IOptions<HealthOptions> options, TimeProvider time)
{
    /// <summary>
    /// Whether first messages from an instance on <paramref name="engine"/> count against the budget: not on the official
    /// Cloud API (the engines under Meta's 24-hour rule), where Meta itself caps new conversations per number with its
    /// messaging tiers and a first message is an approved template, never the unsolicited text that gets numbers banned.
    /// </summary>
    public static bool AppliesTo(string engine, Engines.EngineRegistry engines) => !engines.Supports(engine, Engines.EngineFeatures.ServiceWindow);

    public async Task<NewContactBudgetStatus> StatusAsync(int instanceId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.ByIdAsync(instanceId, ct);
        return await StatusAsync(db, instance, ct);
    }

    /// <summary>
    /// Today's budget of an instance the caller already read: counted without reading it again, so an instance deleted
    /// meanwhile (a concurrent <c>delete_instance</c>) still answers from what the caller holds.
    /// </summary>
    public async Task<NewContactBudgetStatus> StatusAsync(Instance instance, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await StatusAsync(db, instance, ct);
    }

    private async Task<NewContactBudgetStatus> StatusAsync(WapBridgeDbContext db, Instance instance, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var zone = InstanceTimeZones.Of(instance);
        var today = WarmUpSchedule.LocalDay(now, zone);
        var dayStart = WarmUpSchedule.StartOf(today, zone);
        var (allowance, warmUpDay) = WarmUpSchedule.AllowanceOn(instance.WarmUpStartedAt, today, zone, options.Value);
        var used = await db.KnownContacts.CountAsync(c => c.InstanceId == instance.Id && c.Source == KnownContactSources.Messaged && c.FirstSeenAt >= dayStart, ct);
        var overridden = instance.ProtectionOverrideUntil > now ? instance.ProtectionOverrideUntil : null;
        return new NewContactBudgetStatus(allowance, used, WarmUpSchedule.NextReset(now, zone), warmUpDay, overridden);
    }

    /// <summary>Whether the number (digits) already has a conversation with the instance, directly or through its LID.</summary>
    public async Task<bool> IsKnownAsync(int instanceId, string number, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await IsKnownAsync(db, instanceId, number, ct);
    }

    private static Task<bool> IsKnownAsync(WapBridgeDbContext db, int instanceId, string number, CancellationToken ct) =>
        db.KnownContacts.AnyAsync(c => c.InstanceId == instanceId && (c.Number == number
            || (c.Lid != null && db.LidMappings.Any(m => m.InstanceId == instanceId && m.PhoneNumber == number && m.Lid == c.Lid))), ct);

    /// <summary>
    /// Before a message to <paramref name="number"/> goes out: a known contact passes uncounted; a new one takes one of
    /// today's allowance (persisted before the send, so a crash never hands out the same slot twice) or waits for the
    /// next local midnight. The owner's override lets new contacts through, still counted.
    /// </summary>
    public async Task<NewContactClaim> ClaimAsync(int instanceId, string number, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await IsKnownAsync(db, instanceId, number, ct))
            return new(true, true, null);
        var instance = await db.Instances.ByIdAsync(instanceId, ct);
        var budget = await StatusAsync(db, instance, ct);
        if (budget.LeftToday <= 0 && budget.OverriddenUntil is null)
            return new(false, false, budget.ResetsAt);
        await RememberAsync(db, instanceId, [new(number, null)], KnownContactSources.Messaged, ct);
        return new(true, false, null);
    }

    /// <summary>
    /// Gives back the slot a <see cref="ClaimAsync"/> took (it answered not <see cref="NewContactClaim.Known"/>) when
    /// WhatsApp then refused the message: no conversation began, so the number is still a stranger (a 463 must keep
    /// holding it) and today's budget did not shrink.
    /// </summary>
    public async Task ReleaseAsync(int instanceId, string number, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.KnownContacts.Where(c => c.InstanceId == instanceId && c.Number == number && c.Source == KnownContactSources.Messaged).ExecuteDeleteAsync(ct);
    }

    /// <summary>Records contacts as known (already known ones keep their first source and time).</summary>
    public async Task RememberAsync(int instanceId, IReadOnlyCollection<KnownContactAddress> contacts, string source, CancellationToken ct = default)
    {
        if (contacts.Count == 0)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RememberAsync(db, instanceId, contacts, source, ct);
    }

    private async Task RememberAsync(WapBridgeDbContext db, int instanceId, IReadOnlyCollection<KnownContactAddress> contacts, string source, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var chunk in contacts.Where(c => c.Number is not null || c.Lid is not null).DistinctBy(c => (c.Number, c.Lid)).Chunk(200))
        {
            var numbers = chunk.Where(c => c.Number is not null).Select(c => c.Number!).ToList();
            var lids = chunk.Where(c => c.Lid is not null).Select(c => c.Lid!).ToList();
            var existing = await db.KnownContacts.AsNoTracking()
                .Where(k => k.InstanceId == instanceId && ((k.Number != null && numbers.Contains(k.Number)) || (k.Lid != null && lids.Contains(k.Lid))))
                .Select(k => new { k.Number, k.Lid }).ToListAsync(ct);
            var knownNumbers = existing.Where(e => e.Number is not null).Select(e => e.Number!).ToHashSet();
            var knownLids = existing.Where(e => e.Lid is not null).Select(e => e.Lid!).ToHashSet();
            foreach (var contact in chunk.Where(c => !(c.Number is not null && knownNumbers.Contains(c.Number)) && !(c.Lid is not null && knownLids.Contains(c.Lid))))
            {
                db.KnownContacts.Add(new KnownContact { InstanceId = instanceId, Number = contact.Number, Lid = contact.Lid, Source = source, FirstSeenAt = now });
            }
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException) when (db.ChangeTracker.Entries<KnownContact>().Any())
            {
                // Another writer (the outbox, a sync, another node) recorded some of them first: insert one by one, skipping those.
                var pending = db.ChangeTracker.Entries<KnownContact>().Select(e => e.Entity).ToList();
                db.ChangeTracker.Clear();
                foreach (var row in pending)
                {
                    db.KnownContacts.Add(row);
                    try { await db.SaveChangesAsync(ct); }
                    catch (DbUpdateException) { }
                    db.ChangeTracker.Clear();
                }
            }
            db.ChangeTracker.Clear();
        }
    }
}

/// <summary>A contact by number (digits), LID (user part) or both.</summary>
public sealed record KnownContactAddress(string? Number, string? Lid);
