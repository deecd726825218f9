using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

public sealed record ApiKeySummary(int Id, string Key, string Label, string SecretHint, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt,
    bool IsAdmin = false);

/// <summary>The only moment a secret exists in clear: returned once from <see cref="ApiKeyService.CreateAsync"/>.</summary>
public sealed record NewApiKey(ApiKeySummary Summary, string Secret)
{
    public string AuthorizationHeader => $"token {Summary.Key}:{Secret}";
}

/// <summary>Creates, lists, revokes and verifies API keys, always scoped to one customer.</summary>
public sealed class ApiKeyService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IMemoryCache cache,
    TimeProvider time,
    ILogger<ApiKeyService> logger)
{
    // Verified keys are cached briefly so a busy integrator costs no query per request; revocation evicts at once on this node.
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    // last_used_at is written at most this often per key, so reads never turn into a write per request.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public Task<NewApiKey> CreateAsync(int customerId, string? label, string? createdByUserId, CancellationToken ct = default) =>
        CreateAsync(customerId, label, createdByUserId, isAdmin: false, ct);

    /// <summary>
    /// <paramref name="isAdmin"/> makes a key that may call the admin API. Only an Admin user makes one, for their own
    /// customer, and it stays tied to them: it stops being an admin key when they stop being an Admin.
    /// </summary>
    public async Task<NewApiKey> CreateAsync(int customerId, string? label, string? createdByUserId, bool isAdmin, CancellationToken ct = default)
    {
        label = string.IsNullOrWhiteSpace(label) ? "API key" : label.Trim();
        if (label.Length > 100)
            throw WapBridgeException.Invalid("label", "too_long", "label must be at most 100 characters");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct))
            throw WapBridgeException.NotFound("Customer", customerId.ToString(CultureInfo.InvariantCulture), "customer");
        if (isAdmin)
        {
            var creator = createdByUserId is null ? null
                : await db.Users.Where(u => u.Id == createdByUserId).Select(u => new { u.CustomerId }).SingleOrDefaultAsync(ct);
            if (creator is null || !await IsAdminUserAsync(db, createdByUserId!, ct))
                throw WapBridgeException.Invalid("is_admin", "admin_key_not_allowed",
                    "is_admin: only an Admin user can create an admin key (from the dashboard, or with their own admin key)");
            if (creator.CustomerId != customerId)
                throw WapBridgeException.Invalid("is_admin", "admin_key_not_allowed",
                    "is_admin: an admin key can only be created for the Admin's own customer, never for another customer");
        }

        var secret = ApiKeyCredentials.NewSecret();
        var entity = new ApiKey
        {
            Key = ApiKeyCredentials.NewKey(),
            SecretHash = ApiKeyCredentials.HashSecret(secret),
            SecretHint = secret[^4..],
            Label = label,
            CustomerId = customerId,
            CreatedByUserId = createdByUserId,
            IsAdmin = isAdmin,
            CreatedAt = time.GetUtcNow(),
        };
        db.ApiKeys.Add(entity);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("API key {ApiKey} '{Label}' created for customer {CustomerId}{Admin}", entity.Key, label, customerId, isAdmin ? " as an admin key" : "");
        return new NewApiKey(ToSummary(entity), secret);
    }

    public async Task<IReadOnlyList<ApiKeySummary>> ListAsync(int customerId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.CustomerId == customerId).ToListAsync(ct);
        return keys.OrderByDescending(k => k.CreatedAt).Select(ToSummary).ToList();
    }

    public async Task RevokeAsync(int customerId, int apiKeyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == apiKeyId && k.CustomerId == customerId, ct)
            ?? throw WapBridgeException.NotFound("API key", apiKeyId.ToString(CultureInfo.InvariantCulture), "api_key");
        if (key.RevokedAt is null)
        {
            key.RevokedAt = time.GetUtcNow();
            await db.SaveChangesAsync(ct);
            logger.LogInformation("API key {ApiKey} of customer {CustomerId} revoked", key.Key, customerId);
        }
        cache.Remove(CacheKey(key.Key));
    }

    /// <summary>The dashboard user who created a key, if one did.</summary>
    public async Task<string?> CreatorOfAsync(int apiKeyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.Where(k => k.Id == apiKeyId).Select(k => k.CreatedByUserId).SingleOrDefaultAsync(ct);
    }

    /// <summary>The caller behind <paramref name="key"/>:<paramref name="secret"/>, or null when unknown, revoked or wrong.</summary>
    public async Task<ApiCaller?> VerifyAsync(string key, string secret, CancellationToken ct = default)
    {
        if (!ApiKeyCredentials.IsWellFormedKey(key))
            return null;

        var entry = await cache.GetOrCreateAsync(CacheKey(key), async e =>
        {
            e.AbsoluteExpirationRelativeToNow = CacheLifetime;
            return await LoadAsync(key, ct);
        });
        if (entry is null || !ApiKeyCredentials.SecretMatches(secret, entry.SecretHash))
            return null;

        await TouchAsync(entry, ct);
        // Not cached: demoting the creator must disarm the key at once, on every node. Admin keys are few
        // (an operator's automation), so this costs one indexed query on those keys' requests only.
        if (entry.AdminCreatorId is { } creator)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            return entry.Caller with { IsAdmin = await IsAdminUserAsync(db, creator, ct) };
        }
        return entry.Caller;
    }

    private async Task<VerifiedKey?> LoadAsync(string key, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Key == key && k.RevokedAt == null)
            .Select(k => new { k.Id, k.SecretHash, k.CustomerId, CustomerCode = k.Customer!.Code, k.CreatedByUserId, k.IsAdmin, k.LastUsedAt })
            .SingleOrDefaultAsync(ct);
        if (row is null)
            return null;

        var adminCreator = row.IsAdmin ? row.CreatedByUserId : null;
        return new VerifiedKey(row.SecretHash, new ApiCaller(row.CustomerId, row.CustomerCode, row.Id, key, false), adminCreator, row.LastUsedAt);
    }

    private static Task<bool> IsAdminUserAsync(WapBridgeDbContext db, string userId, CancellationToken ct) => (
        from ur in db.UserRoles
        join r in db.Roles on ur.RoleId equals r.Id
        where ur.UserId == userId && r.Name == Roles.Admin
        select ur).AnyAsync(ct);

    private async Task TouchAsync(VerifiedKey entry, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (entry.LastUsedAt is { } last && now - last < LastUsedResolution)
            return;
        entry.LastUsedAt = now;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.ApiKeys.Where(k => k.Id == entry.Caller.ApiKeyId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
    }

    private static string CacheKey(string key) => "apikey:" + key;

    private static ApiKeySummary ToSummary(ApiKey k) => new(k.Id, k.Key, k.Label, k.SecretHint, k.CreatedAt, k.LastUsedAt, k.RevokedAt, k.IsAdmin);

    private sealed class VerifiedKey(byte[] secretHash, ApiCaller caller, string? adminCreatorId, DateTimeOffset? lastUsedAt)
    {
        public byte[] SecretHash { get; } = secretHash;
        public ApiCaller Caller { get; } = caller;

        /// <summary>The creator of a key flagged admin: the key is admin while this user is.</summary>
        public string? AdminCreatorId { get; } = adminCreatorId;
        public DateTimeOffset? LastUsedAt { get; set; } = lastUsedAt;
    }
}
