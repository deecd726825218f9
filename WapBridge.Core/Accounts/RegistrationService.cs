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

public enum RegistrationMode
{
    /// <summary>The server has no customers at all: the one registering becomes its Admin.</summary>
    FirstAdmin,

    /// <summary>Sign-up is open (<see cref="AccountOptions.AllowRegistration"/>): new Owners, Admin only with a setup token.</summary>
    Open,

    /// <summary>Sign-up is closed: only a setup token registers (as Admin).</summary>
    SetupTokenOnly,
}

/// <summary>
/// Self-service sign-up: each registration creates a customer owned by the new user. Admin is granted deliberately:
/// to the first registration of a server without customers, or with a one-time <see cref="SetupTokens">setup token</see>.
/// A server set up through the admin token has customers, so its first visitor does not become Admin of every tenant.
/// </summary>
public sealed class RegistrationService(
    WapBridgeDbContext db,
    UserManager<WapBridgeUser> users,
    RoleManager<IdentityRole> roles,
    CustomerService customers,
    SetupTokens setupTokens,
    IOptions<AccountOptions> options,
    ILogger<RegistrationService> logger)
{
    public const string ClosedMessage = "Registration is closed on this server. Ask your administrator for an account.";

    public async Task<RegistrationMode> GetModeAsync(CancellationToken ct = default) =>
        !await db.Customers.AnyAsync(ct) ? RegistrationMode.FirstAdmin
        : options.Value.AllowRegistration ? RegistrationMode.Open
        : RegistrationMode.SetupTokenOnly;

    /// <summary>Whether the login page offers sign-up: when it is open, or when an operator still has to make the Admin.</summary>
    public async Task<bool> OffersRegistrationAsync(CancellationToken ct = default) =>
        await GetModeAsync(ct) != RegistrationMode.SetupTokenOnly || await setupTokens.AdminMissingAsync(ct);

    public async Task<RegistrationResult> RegisterAsync(string email, string password, string? organisation, string? setupToken = null,
        CancellationToken ct = default)
    {
        email = email.Trim();
        if (!CustomerService.IsEmail(email))
            return RegistrationResult.Failed($"'{email}' is not a valid e-mail address.");
        var withToken = !string.IsNullOrWhiteSpace(setupToken);
        if (!withToken && await GetModeAsync(ct) == RegistrationMode.SetupTokenOnly)
            return RegistrationResult.Failed(ClosedMessage);

        // One transaction: a failed password rule must not leave an orphan customer (or a spent token) behind.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var customerName = string.IsNullOrWhiteSpace(organisation) ? email : organisation.Trim();
        // Creating the customer draws its number under the sequence's lock, so registrations racing for "first" queue
        // here and each then sees the customers committed before it.
        var customer = await customers.CreateAsync(db, customerName, email, ct);
        var firstCustomer = !await db.Customers.AnyAsync(c => c.Id != customer.Id, ct);

        bool isAdmin;
        if (withToken)
        {
            if (!await setupTokens.TryConsumeAsync(db, setupToken!, ct))
                return RegistrationResult.Failed("The setup token is not valid: it was mistyped, has been used, or is older than 24 hours. "
                    + "Take the newest one from the server log, or make one with the admin API's create_setup_token.");
            isAdmin = true;
        }
        else if (firstCustomer)
            isAdmin = true;
        else if (options.Value.AllowRegistration)
            isAdmin = false;
        else
            return RegistrationResult.Failed(ClosedMessage);

        var user = new WapBridgeUser { UserName = email, Email = email, CustomerId = customer.Id };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
            return RegistrationResult.Failed(created.Errors.Select(e => e.Description).ToArray());

        await EnsureRoleAsync(Roles.Owner);
        await users.AddToRoleAsync(user, Roles.Owner);
        if (isAdmin)
        {
            await EnsureRoleAsync(Roles.Admin);
            await users.AddToRoleAsync(user, Roles.Admin);
        }
        await tx.CommitAsync(ct);
        logger.LogInformation("User {Email} registered with customer {Customer}{Admin}", email, customer.Code,
            !isAdmin ? "" : withToken ? " as Admin, with a setup token" : " as the first Admin");
        return new RegistrationResult(true, user, [], isAdmin);
    }

    private async Task EnsureRoleAsync(string role)
    {
        if (!await roles.RoleExistsAsync(role))
            await roles.CreateAsync(new IdentityRole(role));
    }
}
