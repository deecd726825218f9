using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

public sealed record UserSummary(
    string Id, string Email, int CustomerId, string CustomerCode, IReadOnlyList<string> Roles, bool IsLockedOut, DateTimeOffset? LockoutEnd)
{
    /// <summary>
    /// Disabled by an Admin: locked out with no end, unlike the minutes a run of wrong passwords costs. Compared by year,
    /// as the database may round the stored end.
    /// </summary>
    public bool IsDisabled => LockoutEnd is { } end && end.UtcDateTime.Year == UserAdministration.DisabledUntil.Year;
}

/// <summary>The outcome of an Admin's change to a user: what went wrong, in words for the dashboard.</summary>
public sealed record UserChangeResult(bool Succeeded, IReadOnlyList<string> Errors)
{
    public static readonly UserChangeResult Ok = new(true, []);

    public static UserChangeResult Failed(params string[] errors) => new(false, errors);
}

/// <summary>A password-reset token for a user, made by an Admin to pass on by hand.</summary>
public sealed record PasswordResetToken(string Email, string Token);

public sealed record UserCreationResult(bool Succeeded, WapBridgeUser? User, IReadOnlyList<string> Errors)
{
    public static UserCreationResult Failed(params string[] errors) => new(false, null, errors);
}

/// <summary>
/// What an Admin does with dashboard logins: list every user, add Owner users to an existing customer, change roles,
/// disable, enable, unlock and delete users, and make password-reset tokens. The server always keeps one enabled Admin,
/// and an Admin cannot disable or delete their own login.
/// Scoped, like the Identity stores it uses; take a fresh scope per operation in long-lived callers.
/// </summary>
public sealed class UserAdministration(
    WapBridgeDbContext db,
    UserManager<WapBridgeUser> users,
    RoleManager<IdentityRole> roles,
    TimeProvider time,
    ILogger<UserAdministration> logger)
{
    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync(CancellationToken ct = default)
    {
        var rows = await (
            from u in db.Users.AsNoTracking()
            join c in db.Customers.AsNoTracking() on u.CustomerId equals c.Id
            orderby u.Email
            select new { u.Id, u.Email, u.UserName, u.CustomerId, CustomerCode = c.Code, u.LockoutEnd })
            .ToListAsync(ct);
        var userRoles = await (
            from ur in db.UserRoles.AsNoTracking()
            join r in db.Roles.AsNoTracking() on ur.RoleId equals r.Id
            select new { ur.UserId, r.Name })
            .ToListAsync(ct);
        var rolesByUser = userRoles.ToLookup(x => x.UserId, x => x.Name ?? "");
        var now = time.GetUtcNow();
        return rows
            .Select(u => new UserSummary(
                u.Id, u.Email ?? u.UserName ?? "", u.CustomerId, u.CustomerCode,
                rolesByUser[u.Id].Order(StringComparer.Ordinal).ToList(),
                u.LockoutEnd is { } end && end > now, u.LockoutEnd))
            .ToList();
    }

    /// <summary>Adds an Owner login to an existing customer. Nothing is written unless every step succeeds.</summary>
    public async Task<UserCreationResult> CreateOwnerAsync(string? email, string? password, int customerId, CancellationToken ct = default)
    {
        email = email?.Trim() ?? "";
        if (!CustomerService.IsEmail(email))
            return UserCreationResult.Failed($"'{email}' is not a valid e-mail address.");
        if (string.IsNullOrEmpty(password))
            return UserCreationResult.Failed("A password is required.");

        var customerCode = await db.Customers.Where(c => c.Id == customerId).Select(c => c.Code).SingleOrDefaultAsync(ct);
        if (customerCode is null)
            return UserCreationResult.Failed($"Customer {customerId} does not exist.");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var user = new WapBridgeUser { UserName = email, Email = email, CustomerId = customerId };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            db.ChangeTracker.Clear();
            return UserCreationResult.Failed(created.Errors.Select(e => e.Description).ToArray());
        }
        if (!await roles.RoleExistsAsync(Roles.Owner))
            await roles.CreateAsync(new IdentityRole(Roles.Owner));
        var added = await users.AddToRoleAsync(user, Roles.Owner);
        if (!added.Succeeded)
        {
            db.ChangeTracker.Clear();
            return UserCreationResult.Failed(added.Errors.Select(e => e.Description).ToArray());
        }
        await tx.CommitAsync(ct);
        logger.LogInformation("User {Email} added as Owner of customer {Customer}", email, customerCode);
        return new UserCreationResult(true, user, []);
    }

    /// <summary>The lockout end that marks a login as disabled (Identity treats any future end as locked out).</summary>
    public static readonly DateTimeOffset DisabledUntil = DateTimeOffset.MaxValue;

    public static readonly IReadOnlyList<string> AllRoles = [Roles.Admin, Roles.Owner];

    /// <summary>Gives the user exactly <paramref name="newRoles"/>; refused when it would leave no enabled Admin.</summary>
    public async Task<UserChangeResult> SetRolesAsync(string actingUserId, string userId, IReadOnlyCollection<string> newRoles, CancellationToken ct = default)
    {
        if (newRoles.FirstOrDefault(r => !AllRoles.Contains(r)) is { } unknown)
            return UserChangeResult.Failed($"Unknown role '{unknown}': choose {string.Join(" or ", AllRoles)}.");
        if (await users.FindByIdAsync(userId) is not { } user)
            return UserChangeResult.Failed("This user no longer exists.");
        var current = await users.GetRolesAsync(user);
        if (current.Contains(Roles.Admin) && !newRoles.Contains(Roles.Admin) && !await HasOtherEnabledAdminAsync(userId, ct))
            return UserChangeResult.Failed("This is the only enabled Admin: make another user Admin first.");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var role in newRoles.Where(r => !current.Contains(r)))
        {
            if (!await roles.RoleExistsAsync(role))
                await roles.CreateAsync(new IdentityRole(role));
        }
        var removed = await users.RemoveFromRolesAsync(user, current.Where(r => !newRoles.Contains(r)));
        var added = removed.Succeeded ? await users.AddToRolesAsync(user, newRoles.Where(r => !current.Contains(r))) : removed;
        if (!added.Succeeded)
        {
            db.ChangeTracker.Clear();
            return UserChangeResult.Failed(added.Errors.Select(e => e.Description).ToArray());
        }
        // A new security stamp signs the user's open dashboard sessions out at their next check, so they pick up the new roles.
        await users.UpdateSecurityStampAsync(user);
        await tx.CommitAsync(ct);
        logger.LogInformation("User {Email} now has roles {Roles} (changed by {ActingUser})", user.Email, newRoles, actingUserId);
        return UserChangeResult.Ok;
    }

    /// <summary>Locks the user out until an Admin enables them again, and ends their open sessions.</summary>
    public async Task<UserChangeResult> DisableAsync(string actingUserId, string userId, CancellationToken ct = default)
    {
        if (userId == actingUserId)
            return UserChangeResult.Failed("You cannot disable your own login.");
        if (await users.FindByIdAsync(userId) is not { } user)
            return UserChangeResult.Failed("This user no longer exists.");
        if (await users.IsInRoleAsync(user, Roles.Admin) && !await HasOtherEnabledAdminAsync(userId, ct))
            return UserChangeResult.Failed("This is the only enabled Admin: make another user Admin first.");
        await users.SetLockoutEnabledAsync(user, true);
        var result = await users.SetLockoutEndDateAsync(user, DisabledUntil);
        if (!result.Succeeded)
            return UserChangeResult.Failed(result.Errors.Select(e => e.Description).ToArray());
        await users.UpdateSecurityStampAsync(user);
        logger.LogInformation("User {Email} disabled by {ActingUser}", user.Email, actingUserId);
        return UserChangeResult.Ok;
    }

    /// <summary>Lets the user log in again: ends a disable or a lockout after wrong passwords, and forgets the failed attempts.</summary>
    public async Task<UserChangeResult> UnlockAsync(string actingUserId, string userId, CancellationToken ct = default)
    {
        if (await users.FindByIdAsync(userId) is not { } user)
            return UserChangeResult.Failed("This user no longer exists.");
        var result = await users.SetLockoutEndDateAsync(user, null);
        if (result.Succeeded)
            result = await users.ResetAccessFailedCountAsync(user);
        if (!result.Succeeded)
            return UserChangeResult.Failed(result.Errors.Select(e => e.Description).ToArray());
        logger.LogInformation("User {Email} enabled and unlocked by {ActingUser}", user.Email, actingUserId);
        return UserChangeResult.Ok;
    }

    /// <summary>Deletes the login (the customer and its data stay); never the caller's own, never the last enabled Admin.</summary>
    public async Task<UserChangeResult> DeleteAsync(string actingUserId, string userId, CancellationToken ct = default)
    {
        if (userId == actingUserId)
            return UserChangeResult.Failed("You cannot delete your own login.");
        if (await users.FindByIdAsync(userId) is not { } user)
            return UserChangeResult.Failed("This user no longer exists.");
        if (await users.IsInRoleAsync(user, Roles.Admin) && !await HasOtherEnabledAdminAsync(userId, ct))
            return UserChangeResult.Failed("This is the only enabled Admin: make another user Admin first.");
        var result = await users.DeleteAsync(user);
        if (!result.Succeeded)
            return UserChangeResult.Failed(result.Errors.Select(e => e.Description).ToArray());
        logger.LogInformation("User {Email} deleted by {ActingUser}", user.Email, actingUserId);
        return UserChangeResult.Ok;
    }

    /// <summary>A password-reset token for the user, for an Admin to pass on when the user cannot reach the server log.</summary>
    public async Task<PasswordResetToken?> CreatePasswordResetTokenAsync(string actingUserId, string userId, CancellationToken ct = default)
    {
        if (await users.FindByIdAsync(userId) is not { } user)
            return null;
        var token = await users.GeneratePasswordResetTokenAsync(user);
        logger.LogInformation("Password-reset link for {Email} made by {ActingUser}", user.Email, actingUserId);
        return new PasswordResetToken(user.Email ?? user.UserName ?? "", token);
    }

    private async Task<bool> HasOtherEnabledAdminAsync(string userId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var admins = await (
            from ur in db.UserRoles.AsNoTracking()
            join r in db.Roles.AsNoTracking() on ur.RoleId equals r.Id
            join u in db.Users.AsNoTracking() on ur.UserId equals u.Id
            where r.Name == Roles.Admin && u.Id != userId
            select u.LockoutEnd)
            .ToListAsync(ct);
        // Compared here, not in SQL: SQLite cannot order DateTimeOffset values.
        return admins.Any(end => end is null || end <= now);
    }
}
