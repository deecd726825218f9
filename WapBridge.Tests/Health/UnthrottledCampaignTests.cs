using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

public sealed class SqliteUnthrottledApp() : WapBridgeApp("sqlite", FakeBridge.Settings());

public sealed class PostgresUnthrottledApp() : WapBridgeApp("postgres", FakeBridge.Settings());

/// <summary>
/// Contract §12: a campaign without spacing or caps is refused on a real engine unless an Admin allowed it for the
/// customer (<c>admin.update_customer</c> <c>allow_unthrottled_campaigns</c>); the simulator always allows it.
/// </summary>
public abstract class UnthrottledCampaignTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.";
    private static readonly object Unthrottled = new { min_delay_seconds = 0, max_delay_seconds = 0 };

    private static Task<ApiAnswer> CreateAsync(HttpClient client, string instanceId, object throttle) =>
        client.CallAsync(P + "campaigns.create_and_start_campaign", new { instance_id = instanceId, message = "Sale!", recipients = new[] { "255755500001", "255755500002" }, throttle });

    private static Task<ApiAnswer> AllowAsync(HttpClient admin, string customer, bool allow) =>
        admin.CallAsync(P + "admin.update_customer", new { customer, allow_unthrottled_campaigns = allow });

    [Fact]
    public async Task An_unthrottled_campaign_on_a_Baileys_instance_is_refused_until_an_Admin_allows_it_for_the_customer()
    {
        FakeBridge.SkipWithoutNode();
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var instance = (await client.CallAsync(P + "instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();

        var refused = await CreateAsync(client, instance, Unthrottled);

        Assert.Equal(417, refused.Status);
        Assert.Equal("throttle", refused.ErrorField);
        Assert.Equal("unthrottled_refused", refused.ErrorCode);
        var message = refused.Body!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("banned", message);
        Assert.Contains("only an Admin can allow", message);
        // The dashboard creates campaigns through the same service: refused there too, naming the same field.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var customerId = await db.Customers.Where(c => c.Code == customer.Code).Select(c => c.Id).SingleAsync();
            var e = await Assert.ThrowsAsync<WapBridgeException>(() => app.Services.GetRequiredService<CampaignService>().CreateAsync(customerId,
                new NewCampaign(instance, "From the dashboard", "Sale!", new JsonArray("255755500003"), null, null, null, null, null,
                    (JsonObject)JsonNode.Parse("""{"min_delay_seconds":0,"max_delay_seconds":0}""")!)));
            Assert.Equal("throttle", e.Field);
            Assert.False(await db.Campaigns.AnyAsync(c => c.CustomerId == customerId));
        }

        // Spacing or a cap is all it takes.
        (await CreateAsync(client, instance, new { min_delay_seconds = 0, max_delay_seconds = 0, hourly_limit = 500 })).EnsureOk();
        (await CreateAsync(client, instance, new { min_delay_seconds = 0, max_delay_seconds = 1 })).EnsureOk();

        // A customer cannot allow itself.
        Assert.Equal(403, (await AllowAsync(client, customer.Code, true)).Status);

        var allowed = (await AllowAsync(admin, customer.Code, true)).EnsureOk().Message!;
        Assert.True(allowed["allow_unthrottled_campaigns"]!.GetValue<bool>());
        var listed = (await admin.CallAsync(P + "admin.list_customers", new { limit = 500 })).EnsureOk().Message!["data"]!.AsArray()
            .Single(c => c!["customer"]!.GetValue<string>() == customer.Code)!;
        Assert.True(listed["allow_unthrottled_campaigns"]!.GetValue<bool>());
        (await CreateAsync(client, instance, Unthrottled)).EnsureOk();

        // Other changes leave the consent as it is; false takes it back.
        Assert.True((await admin.CallAsync(P + "admin.update_customer", new { customer = customer.Code, name = "Duka Kuu" })).EnsureOk()
            .Message!["allow_unthrottled_campaigns"]!.GetValue<bool>());
        Assert.False((await AllowAsync(admin, customer.Code, false)).EnsureOk().Message!["allow_unthrottled_campaigns"]!.GetValue<bool>());
        Assert.Equal("unthrottled_refused", (await CreateAsync(client, instance, Unthrottled)).ErrorCode);
    }

    [Fact]
    public async Task The_simulator_runs_unthrottled_campaigns_without_any_consent()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();

        var created = (await CreateAsync(shop.Client, shop.InstanceId, Unthrottled)).EnsureOk().Message!;

        Assert.Equal("running", created["status"]!.GetValue<string>());
    }
}

public sealed class SqliteUnthrottledCampaignTests(SqliteUnthrottledApp app) : UnthrottledCampaignTests(app), IClassFixture<SqliteUnthrottledApp>;

public sealed class PostgresUnthrottledCampaignTests(PostgresUnthrottledApp app) : UnthrottledCampaignTests(app), IClassFixture<PostgresUnthrottledApp>;
