using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

public sealed record RegistrationResult(bool Succeeded, WapBridgeUser? User, IReadOnlyList<string> Errors, bool IsAdmin)
{
    public static RegistrationResult Failed(params string[] errors) => new(false, null, errors, false);
}

/// <summary>
/// Self-service sign-up: each registration creates a customer owned by the new user.
/// The very first user of a server becomes its Admin; afterwards sign-up is open only when configured.
/// </summary>
public sealed class RegistrationService(
    WapBridgeDbContext db,
    UserManager<WapBridgeUser> users,
    RoleManager<IdentityRole> roles,
    CustomerService customers,
    IOptions<AccountOptions> options,
    ILogger<RegistrationService> logger)
{
    public async Task<bool> IsOpenAsync(CancellationToken ct = default) =>
        options.Value.AllowRegistration || !await db.Users.AnyAsync(ct);

    public async Task<RegistrationResult> RegisterAsync(string email, string password, string? organisation, CancellationToken ct = default)
    {
        email = email.Trim();
        if (!CustomerService.IsEmail(email))
            return RegistrationResult.Failed($"'{email}' is not a valid e-mail address.");

        // One transaction: a failed password rule must not leave an orphan customer behind,
        // and on SQLite the write lock also serialises two racing "first users".
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var isFirst = !await db.Users.AnyAsync(ct);
        if (!isFirst && !options.Value.AllowRegistration)
            return RegistrationResult.Failed("Registration is closed on this server. Ask your administrator for an account.");

        var customerName = string.IsNullOrWhiteSpace(organisation) ? email : organisation.Trim();
        var customer = await customers.CreateAsync(db, customerName, email, ct);
        var user = new WapBridgeUser { UserName = email, Email = email, CustomerId = customer.Id };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
            return RegistrationResult.Failed(created.Errors.Select(e => e.Description).ToArray());

        await EnsureRoleAsync(Roles.Owner);
        await users.AddToRoleAsync(user, Roles.Owner);
        if (isFirst)
        {
            await EnsureRoleAsync(Roles.Admin);
            await users.AddToRoleAsync(user, Roles.Admin);
        }
        await tx.CommitAsync(ct);
        logger.LogInformation("User {Email} registered with customer {Customer}{Admin}", email, customer.Code, isFirst ? " as the first Admin" : "");
        return new RegistrationResult(true, user, [], isFirst);
    }

    private async Task EnsureRoleAsync(string role)
    {
        if (!await roles.RoleExistsAsync(role))
            await roles.CreateAsync(new IdentityRole(role));
    }
}
