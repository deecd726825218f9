using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Idempotency;

public abstract record IdempotencyOutcome
{
    /// <summary>First time this key is seen: run the request, then <see cref="IdempotencyStore.CompleteAsync"/>.</summary>
    public sealed record Started(long RecordId) : IdempotencyOutcome;

    public sealed record Replay(int StatusCode, string Body) : IdempotencyOutcome;

    /// <summary>The same key is being processed by another request right now.</summary>
    public sealed record InProgress : IdempotencyOutcome;

    /// <summary>The key was used before for a different method or different arguments.</summary>
    public sealed record Mismatch : IdempotencyOutcome;
}

/// <summary>Remembers the first answer to an <c>Idempotency-Key</c> for 24 hours (contract §1).</summary>
public sealed class IdempotencyStore(IDbContextFactory<WapBridgeDbContext> dbFactory, TimeProvider time)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // A request that crashed mid-way leaves its claim behind; after this long a retry may take it over.
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(5);

    public async Task<IdempotencyOutcome> BeginAsync(string scope, string key, string requestHash, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = time.GetUtcNow();
            var existing = await db.IdempotencyRecords.AsNoTracking().SingleOrDefaultAsync(r => r.Scope == scope && r.Key == key, ct);
            if (existing is not null)
            {
                var stale = now - existing.CreatedAt > Retention
                    || (existing.StatusCode is null && now - existing.CreatedAt > AbandonedAfter);
                if (!stale)
                {
                    if (existing.RequestHash != requestHash) return new IdempotencyOutcome.Mismatch();
                    return existing.StatusCode is { } status
                        ? new IdempotencyOutcome.Replay(status, existing.ResponseBody ?? "")
                        : new IdempotencyOutcome.InProgress();
                }
                await db.IdempotencyRecords.Where(r => r.Id == existing.Id).ExecuteDeleteAsync(ct);
            }

            var record = new IdempotencyRecord { Scope = scope, Key = key, RequestHash = requestHash, CreatedAt = now };
            db.IdempotencyRecords.Add(record);
            try
            {
                await db.SaveChangesAsync(ct);
                return new IdempotencyOutcome.Started(record.Id);
            }
            catch (DbUpdateException)
            {
                // Another request claimed the key between our read and insert: read again.
                db.ChangeTracker.Clear();
            }
        }
        return new IdempotencyOutcome.InProgress();
    }

    public async Task CompleteAsync(long recordId, int statusCode, string body, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.IdempotencyRecords.Where(r => r.Id == recordId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.StatusCode, statusCode).SetProperty(r => r.ResponseBody, body), ct);
    }

    /// <summary>Forgets a claim whose request failed on our side, so the client's retry runs again.</summary>
    public async Task ReleaseAsync(long recordId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.IdempotencyRecords.Where(r => r.Id == recordId).ExecuteDeleteAsync(ct);
    }

    public async Task<int> PurgeExpiredAsync(CancellationToken ct = default)
    {
        var cutoff = time.GetUtcNow() - Retention;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.IdempotencyRecords.Where(r => r.CreatedAt < cutoff).ExecuteDeleteAsync(ct);
    }
}
