using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

public sealed record UserSummary(
    string Id, string Email, int CustomerId, string CustomerCode, IReadOnlyList<string> Roles, bool IsLockedOut, DateTimeOffset? LockoutEnd);

public sealed record UserCreationResult(bool Succeeded, WapBridgeUser? User, IReadOnlyList<string> Errors)
{
    public static UserCreationResult Failed(params string[] errors) => new(false, null, errors);
}

/// <summary>
/// What an Admin does with dashboard logins: list every user and add Owner users to an existing customer.
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
}
