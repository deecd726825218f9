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
            .AddEntityFrameworkStores<WapBridgeDbContext>();
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
}
