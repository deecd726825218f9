using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Contacts;

/// <summary>
/// WhatsApp's answers to "is this number on WhatsApp?" per instance (<see cref="NumberCheck"/>), shared by the send
/// path, <c>contacts.check_numbers</c> and campaigns: a number asked once is not asked again for <see cref="Lifetime"/>,
/// because mass look-ups are themselves a ban signal.
/// </summary>
public sealed class NumberCheckCache(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IEnumerable<ILidMappingObserver> lidObservers,
    TimeProvider time)
{
    /// <summary>How long WhatsApp's answer is trusted.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private readonly List<ILidMappingObserver> _lidObservers = lidObservers.ToList();

    /// <summary>
    /// Answers for digits-only <paramref name="numbers"/> of one instance: cached ones younger than <see cref="Lifetime"/>,
    /// the rest asked with <paramref name="ask"/> in one batch and stored. An answer of null (the engine cannot tell) is
    /// not stored. LIDs learned are saved through <see cref="LidMappings"/>, so <c>contact.lid</c> fires.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, NumberCheckResult?>> CheckAsync(int instanceId, IReadOnlyList<string> numbers,
        Func<IReadOnlyList<string>, CancellationToken, Task<IReadOnlyList<NumberCheckResult?>>> ask, CancellationToken ct = default)
    {
        var wanted = numbers.Distinct(StringComparer.Ordinal).ToList();
        var answers = new Dictionary<string, NumberCheckResult?>(StringComparer.Ordinal);
        if (wanted.Count == 0)
            return answers;
        var now = time.GetUtcNow();
        var freshSince = now - Lifetime;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Chunked: a 500-number IN list is fine for both databases, but keep the parameter count modest.
            foreach (var chunk in wanted.Chunk(200))
            {
                var cached = await db.NumberChecks.AsNoTracking()
                    .Where(c => c.InstanceId == instanceId && chunk.Contains(c.Number))
                    .ToListAsync(ct);
                foreach (var c in cached.Where(c => c.CheckedAt > freshSince))
                    answers[c.Number] = new NumberCheckResult(c.OnWhatsApp, c.Jid, c.Lid);
            }
        }

        var missing = wanted.Where(n => !answers.ContainsKey(n)).ToList();
        if (missing.Count == 0)
            return answers;
        var asked = await ask(missing, ct);
        if (asked.Count != missing.Count)
            throw new InvalidOperationException($"The engine answered {asked.Count} number checks for {missing.Count} numbers.");

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var known = missing.Where((_, i) => asked[i] is not null).ToList();
            foreach (var chunk in known.Chunk(200))
                await db.NumberChecks.Where(c => c.InstanceId == instanceId && chunk.Contains(c.Number)).ExecuteDeleteAsync(ct);
            for (var i = 0; i < missing.Count; i++)
            {
                var answer = asked[i];
                answers[missing[i]] = answer;
                if (answer is null)
                    continue;
                db.NumberChecks.Add(new NumberCheck
                {
                    InstanceId = instanceId,
                    Number = missing[i],
                    OnWhatsApp = answer.OnWhatsApp,
                    Jid = answer.Jid,
                    Lid = LidUser(answer.Lid),
                    CheckedAt = now,
                });
            }
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // Another caller stored the same numbers at the same moment: its answers are as fresh as ours.
            }
        }

        for (var i = 0; i < missing.Count; i++)
            if (asked[i] is { OnWhatsApp: true, Lid: { } lid } && LidUser(lid) is { } user)
                await LidMappings.SaveAsync(dbFactory, _lidObservers, instanceId, user, missing[i], now, ct);
        return answers;
    }

    /// <summary>Forgets the answer for a number, so it is asked again next time (a refused send: the answer may be stale).</summary>
    public async Task ForgetAsync(int instanceId, string number, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.NumberChecks.Where(c => c.InstanceId == instanceId && c.Number == number).ExecuteDeleteAsync(ct);
    }

    /// <summary>The user part of a LID as the map stores it: <c>123</c> of <c>123@lid</c> or <c>123:4@lid</c>; null when not digits.</summary>
    public static string? LidUser(string? lid)
    {
        if (string.IsNullOrWhiteSpace(lid))
            return null;
        var user = lid.Trim();
        var at = user.IndexOf('@');
        if (at >= 0)
            user = user[..at];
        var colon = user.IndexOf(':');
        if (colon >= 0)
            user = user[..colon];
        return user.Length is > 0 and <= 32 && user.All(char.IsAsciiDigit) ? user : null;
    }
}
