using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>
/// An instance's engine auth state in <see cref="EngineAuthEntry"/> rows, encrypted, with a read-through cache:
/// Baileys reads the same signal keys on every message, and decrypting them each time would cost more than the send.
/// One store serves one open session, which is the only writer of its instance's entries on this node.
/// </summary>
internal sealed class InstanceAuthStore(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtector protector, int instanceId, TimeProvider time)
    : IEngineAuthStore
{
    /// <summary>
    /// Cached values per session. Baileys keeps a signal session and sender keys per contact and group, so a busy
    /// account would otherwise cache its whole key store; past this the cache starts over (the store has it all).
    /// </summary>
    internal const int MaxCachedEntries = 20_000;

    // Values by (category, key id); a null value is a known-missing key, so a miss is not asked again.
    private readonly ConcurrentDictionary<(string Category, string KeyId), string?> _cache = new();

    public async Task<IReadOnlyDictionary<string, string?>> GetAsync(string category, IReadOnlyCollection<string> keyIds, CancellationToken ct = default)
    {
        var result = new Dictionary<string, string?>(keyIds.Count, StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var id in keyIds.Distinct(StringComparer.Ordinal))
        {
            if (_cache.TryGetValue((category, id), out var cached))
                result[id] = cached;
            else
                missing.Add(id);
        }
        if (missing.Count == 0)
            return result;

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.EngineAuthEntries.AsNoTracking()
            .Where(e => e.InstanceId == instanceId && e.Category == category && missing.Contains(e.KeyId))
            .Select(e => new { e.KeyId, e.Value })
            .ToListAsync(ct);
        var found = rows.ToDictionary(r => r.KeyId, r => protector.Unprotect(r.Value), StringComparer.Ordinal);
        foreach (var id in missing)
        {
            var value = found.GetValueOrDefault(id);
            Cache(category, id, value);
            result[id] = value;
        }
        return result;
    }

    public async Task SetAsync(IReadOnlyCollection<EngineAuthChange> changes, CancellationToken ct = default)
    {
        if (changes.Count == 0)
            return;
        // The last change of a key wins, as if applied in order.
        var latest = new Dictionary<(string, string), EngineAuthChange>();
        foreach (var change in changes)
            latest[(change.Category, change.KeyId)] = change;

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var group in latest.Values.GroupBy(c => c.Category))
        {
            var ids = group.Select(c => c.KeyId).ToList();
            var existing = await db.EngineAuthEntries
                .Where(e => e.InstanceId == instanceId && e.Category == group.Key && ids.Contains(e.KeyId))
                .ToDictionaryAsync(e => e.KeyId, StringComparer.Ordinal, ct);
            foreach (var change in group)
            {
                existing.TryGetValue(change.KeyId, out var row);
                if (change.Value is null)
                {
                    if (row is not null)
                        db.EngineAuthEntries.Remove(row);
                }
                else if (row is null)
                {
                    db.EngineAuthEntries.Add(new EngineAuthEntry
                    {
                        InstanceId = instanceId, Category = change.Category, KeyId = change.KeyId,
                        Value = protector.Protect(change.Value), UpdatedAt = now,
                    });
                }
                else
                {
                    row.Value = protector.Protect(change.Value);
                    row.UpdatedAt = now;
                }
            }
        }
        // One SaveChanges: one transaction, so a crash never leaves half of a key update.
        await db.SaveChangesAsync(ct);
        foreach (var change in latest.Values)
            Cache(change.Category, change.KeyId, change.Value);
    }

    /// <summary>Entries in the cache now (tests).</summary>
    internal int CachedCount => _cache.Count;

    private void Cache(string category, string keyId, string? value)
    {
        if (_cache.Count >= MaxCachedEntries && !_cache.ContainsKey((category, keyId)))
            _cache.Clear();
        _cache[(category, keyId)] = value;
    }

    public async Task ClearAsync(CancellationToken ct = default)
    {
        _cache.Clear();
        await ClearAsync(dbFactory, instanceId, ct);
    }

    public static async Task ClearAsync(IDbContextFactory<WapBridgeDbContext> dbFactory, int instanceId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.EngineAuthEntries.Where(e => e.InstanceId == instanceId).ExecuteDeleteAsync(ct);
    }
}
