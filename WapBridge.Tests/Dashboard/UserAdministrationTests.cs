using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Accounts;
using WapBridge.Core.Persistence;

namespace WapBridge.Tests.Dashboard;

/// <summary>The admin page's user logic on real Identity stores and a real SQLite file.</summary>
public sealed class UserAdministrationTests : IAsyncLifetime
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "users-" + Guid.NewGuid().ToString("N"));
    private ServiceProvider services = default!;

    public async ValueTask InitializeAsync()
    {
        var collection = new ServiceCollection();
        collection.AddWapBridgeDatabase(new DatabaseOptions(), dataDir);
        collection.AddSingleton(TimeProvider.System);
        collection.AddLogging();
        collection.AddSingleton<CustomerService>();
        collection.AddScoped<UserAdministration>();
        collection.AddIdentityCore<WapBridgeUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 8;
                o.Password.RequireNonAlphanumeric = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<WapBridgeDbContext>()
            .AddDefaultTokenProviders();
        collection.AddDataProtection();
        services = collection.BuildServiceProvider();
        await DatabaseMigrator.MigrateAsync(services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(), NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task Adds_an_owner_to_an_existing_customer_and_lists_it()
    {
        var customer = await services.GetRequiredService<CustomerService>().CreateAsync("Globex", "ops@globex.example.com");

        await using (var scope = services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateOwnerAsync("new.owner@globex.example.com", "Password123", customer.Id);
            Assert.True(result.Succeeded, string.Join(" ", result.Errors));
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var users = await scope.ServiceProvider.GetRequiredService<UserAdministration>().ListUsersAsync();
            var user = Assert.Single(users);
            Assert.Equal("new.owner@globex.example.com", user.Email);
            Assert.Equal(customer.Code, user.CustomerCode);
            Assert.Equal([Roles.Owner], user.Roles);
            Assert.False(user.IsLockedOut);

            var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
            var stored = await manager.FindByEmailAsync("new.owner@globex.example.com");
            Assert.True(await manager.CheckPasswordAsync(stored!, "Password123"));
        }
    }

    [Theory]
    [InlineData("not-an-email", "Password123")]
    [InlineData("short@example.com", "short")]
    public async Task Invalid_input_creates_nothing(string email, string password)
    {
        var customer = await services.GetRequiredService<CustomerService>().CreateAsync("Initech", "it@initech.example.com");
        await using var scope = services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<UserAdministration>();

        var result = await admin.CreateOwnerAsync(email, password, customer.Id);

        Assert.False(result.Succeeded);
        Assert.NotEmpty(result.Errors);
        Assert.Empty(await admin.ListUsersAsync());
    }

    [Fact]
    public async Task Unknown_customer_and_duplicate_email_are_refused()
    {
        var customer = await services.GetRequiredService<CustomerService>().CreateAsync("Umbrella", "hq@umbrella.example.com");
        await using var scope = services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<UserAdministration>();

        Assert.False((await admin.CreateOwnerAsync("a@umbrella.example.com", "Password123", customer.Id + 1000)).Succeeded);
        Assert.True((await admin.CreateOwnerAsync("a@umbrella.example.com", "Password123", customer.Id)).Succeeded);
        Assert.False((await admin.CreateOwnerAsync("a@umbrella.example.com", "Password456", customer.Id)).Succeeded);
        Assert.Single(await admin.ListUsersAsync());
    }

    [Fact]
    public async Task Roles_change_but_the_last_enabled_admin_keeps_admin()
    {
        var (admin, owner) = await TwoUsersAsync();
        await using var scope = services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();

        var refused = await administration.SetRolesAsync(admin, admin, [Roles.Owner]);
        Assert.False(refused.Succeeded);
        Assert.Contains("only enabled Admin", refused.Errors[0]);
        Assert.False((await administration.SetRolesAsync(admin, owner, ["Root"])).Succeeded);

        Assert.True((await administration.SetRolesAsync(admin, owner, [Roles.Admin, Roles.Owner])).Succeeded);
        // Now there are two Admins: the first may step down.
        Assert.True((await administration.SetRolesAsync(owner, admin, [Roles.Owner])).Succeeded);

        var listed = await administration.ListUsersAsync();
        Assert.Equal([Roles.Owner], listed.Single(u => u.Id == admin).Roles);
        Assert.Equal([Roles.Admin, Roles.Owner], listed.Single(u => u.Id == owner).Roles);
    }

    [Fact]
    public async Task A_disabled_user_cannot_log_in_until_enabled_and_nobody_disables_or_deletes_themselves()
    {
        var (admin, owner) = await TwoUsersAsync();
        await using var scope = services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();

        Assert.False((await administration.DisableAsync(admin, admin)).Succeeded);
        Assert.False((await administration.DeleteAsync(admin, admin)).Succeeded);

        var stampBefore = (await manager.FindByIdAsync(owner))!.SecurityStamp;
        Assert.True((await administration.DisableAsync(admin, owner)).Succeeded);
        var disabled = (await administration.ListUsersAsync()).Single(u => u.Id == owner);
        Assert.True(disabled.IsDisabled);
        Assert.True(disabled.IsLockedOut);
        var user = (await manager.FindByIdAsync(owner))!;
        Assert.True(await manager.IsLockedOutAsync(user));
        // Open sessions end at their next security-stamp check.
        Assert.NotEqual(stampBefore, user.SecurityStamp);

        Assert.True((await administration.UnlockAsync(admin, owner)).Succeeded);
        var enabled = (await administration.ListUsersAsync()).Single(u => u.Id == owner);
        Assert.False(enabled.IsDisabled);
        Assert.False(await manager.IsLockedOutAsync((await manager.FindByIdAsync(owner))!));
    }

    [Fact]
    public async Task A_user_locked_out_by_wrong_passwords_is_unlocked()
    {
        var (admin, owner) = await TwoUsersAsync();
        await using var scope = services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        var user = (await manager.FindByIdAsync(owner))!;
        await manager.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow.AddMinutes(15));
        await manager.AccessFailedAsync(user);
        var locked = (await administration.ListUsersAsync()).Single(u => u.Id == owner);
        Assert.True(locked.IsLockedOut);
        Assert.False(locked.IsDisabled);

        Assert.True((await administration.UnlockAsync(admin, owner)).Succeeded);

        user = (await manager.FindByIdAsync(owner))!;
        Assert.False(await manager.IsLockedOutAsync(user));
        Assert.Equal(0, await manager.GetAccessFailedCountAsync(user));
    }

    [Fact]
    public async Task Deletes_another_user_but_never_the_last_enabled_admin()
    {
        var (admin, owner) = await TwoUsersAsync();
        await using var scope = services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();

        // The other user, though not the caller, may not delete the only Admin either.
        var refused = await administration.DeleteAsync(owner, admin);
        Assert.False(refused.Succeeded);
        Assert.Contains("only enabled Admin", refused.Errors[0]);

        Assert.True((await administration.DeleteAsync(admin, owner)).Succeeded);
        Assert.Equal([admin], (await administration.ListUsersAsync()).Select(u => u.Id));
    }

    [Fact]
    public async Task A_reset_token_made_by_an_admin_resets_the_password()
    {
        var (admin, owner) = await TwoUsersAsync();
        await using var scope = services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();

        var token = await administration.CreatePasswordResetTokenAsync(admin, owner);

        Assert.NotNull(token);
        Assert.Equal("owner@acme.example.com", token.Email);
        var user = (await manager.FindByIdAsync(owner))!;
        Assert.True((await manager.ResetPasswordAsync(user, token.Token, "Brand-New-Pass-9")).Succeeded);
        Assert.True(await manager.CheckPasswordAsync(user, "Brand-New-Pass-9"));
    }

    /// <summary>An Admin (also Owner) and a plain Owner of one customer: their user ids.</summary>
    private async Task<(string Admin, string Owner)> TwoUsersAsync()
    {
        var customer = await services.GetRequiredService<CustomerService>().CreateAsync("Acme", "hq@acme.example.com");
        await using var scope = services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var admin = await administration.CreateOwnerAsync("admin@acme.example.com", "Password123", customer.Id);
        var owner = await administration.CreateOwnerAsync("owner@acme.example.com", "Password123", customer.Id);
        var manager = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        await roles.CreateAsync(new IdentityRole(Roles.Admin));
        await manager.AddToRoleAsync(admin.User!, Roles.Admin);
        return (admin.User!.Id, owner.User!.Id);
    }
}
