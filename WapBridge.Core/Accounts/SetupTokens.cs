using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

public sealed record SetupToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// One-time tokens that make a registration the server's Admin once it has customers (set up through the admin token,
/// say) and so no longer hands Admin to whoever registers first. A token is signed with the Data Protection keys, so any
/// node can check it, and carries the value of a counter that the first registration using it moves on: that spends
/// every token issued before it, so each works once.
/// </summary>
public sealed class SetupTokens(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtectionProvider dataProtection, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private const string CounterName = "setup-token";

    private readonly IDataProtector _protector = dataProtection.CreateProtector("WapBridge.Accounts.SetupToken");

    public async Task<SetupToken> CreateAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var generation = await CurrentGenerationAsync(db, ct);
        var expiresAt = time.GetUtcNow() + Lifetime;
        var token = _protector.Protect(string.Create(CultureInfo.InvariantCulture, $"{generation}|{expiresAt.ToUnixTimeSeconds()}"));
        return new SetupToken(token, expiresAt);
    }

    /// <summary>
    /// Spends <paramref name="token"/> inside <paramref name="db"/>'s transaction: true when it was valid and unused.
    /// Rolled back with a failed registration, so a typo in the password does not burn the token.
    /// </summary>
    public async Task<bool> TryConsumeAsync(WapBridgeDbContext db, string token, CancellationToken ct = default)
    {
        string payload;
        try
        {
            payload = _protector.Unprotect(token.Trim());
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return false;
        }
        var parts = payload.Split('|');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || time.GetUtcNow() >= DateTimeOffset.FromUnixTimeSeconds(expires))
            return false;

        // The conditional update is the single use: a second registration with the same token waits on the row lock,
        // then finds the counter moved on.
        return await db.Sequences.Where(s => s.Name == CounterName && s.Value == generation)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Value, x => x.Value + 1), ct) == 1;
    }

    /// <summary>The case the start-up log offers a token for: customers exist, but no user is an Admin.</summary>
    public async Task<bool> AdminMissingAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Customers.AnyAsync(ct) && !await (
            from ur in db.UserRoles
            join r in db.Roles on ur.RoleId equals r.Id
            where r.Name == Roles.Admin
            select ur).AnyAsync(ct);
    }

    private static async Task<long> CurrentGenerationAsync(WapBridgeDbContext db, CancellationToken ct)
    {
        var current = await db.Sequences.Where(s => s.Name == CounterName).Select(s => (long?)s.Value).SingleOrDefaultAsync(ct);
        if (current is { } value)
            return value;
        db.Sequences.Add(new Sequence { Name = CounterName, Value = 0 });
        try
        {
            await db.SaveChangesAsync(ct);
            return 0;
        }
        catch (DbUpdateException)
        {
            // Another node created the counter at the same moment.
            db.ChangeTracker.Clear();
            return await db.Sequences.Where(s => s.Name == CounterName).Select(s => s.Value).SingleAsync(ct);
        }
    }
}
