using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Accounts;

/// <summary>
/// Admin API keys are an explicit choice of an Admin, for their own customer, and stop working as admin keys when their
/// creator stops being an Admin (issue 13 item 13).
/// </summary>
public abstract class AdminKeyTests(string provider)
{
    private const string ListCustomers = "wap_bridge.api.admin.list_customers";
    private const string AdminEmail = "operator@example.com";

    private sealed record AdminUser(WapBridgeApp App, string UserId, int CustomerId) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    /// <summary>A fresh server whose first registration made its Admin.</summary>
    private async Task<AdminUser> StartWithAdminAsync()
    {
        var app = new WapBridgeApp(provider);
        await app.InitializeAsync();
        if (!app.Available)
        {
            await app.DisposeAsync();
            app.SkipIfUnavailable();
        }
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);
        Assert.Equal(302, (await AccountForms.RegisterAsync(browser, AdminEmail)).Status);
        await using var scope = app.Services.CreateAsyncScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>().FindByEmailAsync(AdminEmail))!;
        return new AdminUser(app, user.Id, user.CustomerId);
    }

    private static HttpClient Client(WapBridgeApp app, NewApiKey key) => app.CreateApiClient("token " + key.Summary.Key + ":" + key.Secret);

    private static async Task<bool> IsAdminKeyAsync(HttpClient client) =>
        (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk().Message!["is_admin"]!.GetValue<bool>();

    [Fact]
    public async Task A_key_is_admin_only_when_flagged_and_only_while_its_creator_is_an_Admin()
    {
        await using var admin = await StartWithAdminAsync();
        var keys = admin.App.Services.GetRequiredService<ApiKeyService>();

        // What the dashboard's panel does for an Admin who leaves the checkbox alone, and for one who ticks it.
        var plain = await keys.CreateAsync(admin.CustomerId, "sending", admin.UserId);
        var flagged = await keys.CreateAsync(admin.CustomerId, "automation", admin.UserId, isAdmin: true);
        using var plainClient = Client(admin.App, plain);
        using var flaggedClient = Client(admin.App, flagged);

        var refused = await plainClient.CallAsync(ListCustomers);
        Assert.Equal(403, refused.Status);
        Assert.Equal("PermissionError", refused.ExcType);
        Assert.False(await IsAdminKeyAsync(plainClient));
        (await flaggedClient.CallAsync(ListCustomers)).EnsureOk();
        Assert.True(await IsAdminKeyAsync(flaggedClient));

        var listed = (await keys.ListAsync(admin.CustomerId)).ToDictionary(k => k.Key, k => k.IsAdmin);
        Assert.False(listed[plain.Summary.Key]);
        Assert.True(listed[flagged.Summary.Key]);

        // Demoted: the flagged key is disarmed at once (not after a cache expires) and still sends as a customer key.
        await using (var scope = admin.App.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
            Assert.True((await users.RemoveFromRoleAsync((await users.FindByIdAsync(admin.UserId))!, Roles.Admin)).Succeeded);
        }
        Assert.Equal(403, (await flaggedClient.CallAsync(ListCustomers)).Status);
        Assert.False(await IsAdminKeyAsync(flaggedClient));
    }

    [Fact]
    public async Task The_admin_api_makes_admin_keys_only_for_the_calling_Admins_own_customer()
    {
        await using var admin = await StartWithAdminAsync();
        var other = await admin.App.CreateCustomerAsync("Other Ltd");
        var own = (await admin.App.Services.GetRequiredService<CustomerService>().ListAsync(10, 0)).Items.Single(c => c.Id == admin.CustomerId).Code;
        var adminKey = await admin.App.Services.GetRequiredService<ApiKeyService>().CreateAsync(admin.CustomerId, "automation", admin.UserId, isAdmin: true);
        using var adminClient = Client(admin.App, adminKey);
        using var token = admin.App.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        const string create = "wap_bridge.api.admin.create_api_key";

        var byToken = await token.CallAsync(create, new { customer = own, is_admin = true });
        Assert.Equal(417, byToken.Status);
        Assert.Equal("is_admin", byToken.ErrorField);

        var forOther = await adminClient.CallAsync(create, new { customer = other.Code, is_admin = true });
        Assert.Equal(417, forOther.Status);
        Assert.Equal("is_admin", forOther.ErrorField);

        var plainForOther = (await adminClient.CallAsync(create, new { customer = other.Code })).EnsureOk();
        Assert.False(plainForOther.Message!["is_admin"]!.GetValue<bool>());
        using (var client = admin.App.CreateApiClient(plainForOther.Message!["authorization"]!.GetValue<string>()))
            Assert.Equal(403, (await client.CallAsync(ListCustomers)).Status);

        var ownAdmin = (await adminClient.CallAsync(create, new { customer = own, is_admin = true })).EnsureOk();
        Assert.True(ownAdmin.Message!["is_admin"]!.GetValue<bool>());
        using (var client = admin.App.CreateApiClient(ownAdmin.Message!["authorization"]!.GetValue<string>()))
            (await client.CallAsync(ListCustomers)).EnsureOk();
    }

    [Fact]
    public async Task An_Owner_cannot_make_an_admin_key()
    {
        await using var admin = await StartWithAdminAsync();
        var customer = await admin.App.CreateCustomerAsync("Owned Ltd");
        var customerId = (await admin.App.Services.GetRequiredService<CustomerService>().FindByCodeAsync(customer.Code))!.Id;
        string ownerId;
        await using (var scope = admin.App.Services.CreateAsyncScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateOwnerAsync("owner@example.com", "Correct-Horse-42", customerId);
            ownerId = created.User!.Id;
        }

        var error = await Assert.ThrowsAsync<WapBridgeException>(() =>
            admin.App.Services.GetRequiredService<ApiKeyService>().CreateAsync(customerId, "sneaky", ownerId, isAdmin: true));
        Assert.Equal("is_admin", error.Field);
        Assert.DoesNotContain(await admin.App.Services.GetRequiredService<ApiKeyService>().ListAsync(customerId), k => k.Label == "sneaky");
    }
}

public sealed class SqliteAdminKeyTests() : AdminKeyTests("sqlite");

public sealed class PostgresAdminKeyTests() : AdminKeyTests("postgres");
