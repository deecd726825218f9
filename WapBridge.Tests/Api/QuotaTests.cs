using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

public sealed class QuotaApp() : WapBridgeApp("sqlite", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Accounts:Quotas:MaxInstances"] = "2",
}));

/// <summary>Per-customer quotas (issue 13 item 8): server defaults, an operator's own values per customer, each enforced.</summary>
public sealed class QuotaTests(QuotaApp app) : IClassFixture<QuotaApp>
{
    private static string Jpeg(int bytes) => Convert.ToBase64String(new byte[bytes].Select((_, i) => i < 3 ? new byte[] { 0xFF, 0xD8, 0xFF }[i] : (byte)0).ToArray());

    private async Task<(string Code, HttpClient Client)> CustomerAsync(object args)
    {
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var created = (await admin.CallAsync("wap_bridge.api.admin.create_customer", args)).EnsureOk().Message!;
        var code = created["customer"]!.GetValue<string>();
        var key = (await admin.CallAsync("wap_bridge.api.admin.create_api_key", new { customer = code })).EnsureOk().Message!;
        return (code, app.CreateApiClient(key["authorization"]!.GetValue<string>()));
    }

    private static Task<ApiAnswer> CreateInstanceAsync(HttpClient client) =>
        client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" });

    [Fact]
    public async Task The_server_default_limits_instances_and_an_operator_can_raise_it_for_one_customer()
    {
        var (code, client) = await CustomerAsync(new { name = "Default quotas", email = $"{Guid.NewGuid():N}@example.com" });
        (await CreateInstanceAsync(client)).EnsureOk();
        (await CreateInstanceAsync(client)).EnsureOk();
        var refused = await CreateInstanceAsync(client);
        Assert.Equal(417, refused.Status);
        Assert.Equal("quota_exceeded", refused.ErrorCode);
        Assert.Contains("max_instances", refused.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(2, (await client.CallAsync("wap_bridge.api.instances.list_instances")).EnsureOk().Message!["total"]!.GetValue<int>());

        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var updated = (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { customer = code, max_instances = 3 })).EnsureOk().Message!;
        Assert.Equal(3, updated["max_instances"]!.GetValue<int>());
        Assert.Null(updated["max_recipients_per_campaign"]);
        (await CreateInstanceAsync(client)).EnsureOk();
        Assert.Equal(417, (await CreateInstanceAsync(client)).Status);

        var listed = (await admin.CallAsync("wap_bridge.api.admin.list_customers", new { limit = 500 })).EnsureOk().Message!["data"]!.AsArray()
            .Single(c => c!["customer"]!.GetValue<string>() == code)!;
        Assert.Equal(3, listed["max_instances"]!.GetValue<int>());

        var reset = (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { customer = code, max_instances = "default" })).EnsureOk().Message!;
        Assert.Null(reset["max_instances"]);
        Assert.Equal(417, (await CreateInstanceAsync(client)).Status);
    }

    [Fact]
    public async Task A_customers_own_quotas_limit_recipients_per_campaign_and_media_per_message()
    {
        var (code, client) = await CustomerAsync(new
        {
            name = "Small account", email = $"{Guid.NewGuid():N}@example.com",
            max_instances = "1", max_recipients_per_campaign = 3, max_media_bytes_per_message = 1000,
        });
        var instanceId = (await CreateInstanceAsync(client)).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        Assert.Equal(417, (await CreateInstanceAsync(client)).Status);
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = instanceId, phone_number = "255700100100" })).EnsureOk();

        var later = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        var tooMany = await client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = instanceId, message = "hi", recipients = new[] { "255700200001", "255700200002", "255700200003", "255700200004" }, scheduled_at = later,
        });
        Assert.Equal(417, tooMany.Status);
        Assert.Equal("recipients", tooMany.ErrorField);
        Assert.Equal("quota_exceeded", tooMany.ErrorCode);
        Assert.Contains("max_recipients_per_campaign", tooMany.Body!["error"]!["message"]!.GetValue<string>());

        var campaign = (await client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = instanceId, message = "hi", recipients = new[] { "255700200001", "255700200002" }, scheduled_at = later,
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        // The quota counts the campaign's entries in all: 2 + 2 is over 3, 2 + 1 is not.
        var addRefused = await client.CallAsync("wap_bridge.api.campaigns.add_campaign_recipients", new { campaign, recipients = new[] { "255700200003", "255700200004" } });
        Assert.Equal(417, addRefused.Status);
        Assert.Equal("recipients", addRefused.ErrorField);
        Assert.Contains("at most 1", addRefused.Body!["error"]!["message"]!.GetValue<string>());
        (await client.CallAsync("wap_bridge.api.campaigns.add_campaign_recipients", new { campaign, recipients = new[] { "255700200003" } })).EnsureOk();
        Assert.Equal(3, (await client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!["total"]!.GetValue<int>());

        var bigMedia = await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
        {
            instance_id = instanceId, to_number = "255700300001", media_data = Jpeg(1001), mime_type = "image/jpeg", wait = 0,
        });
        Assert.Equal(417, bigMedia.Status);
        Assert.Equal("media_data", bigMedia.ErrorField);
        Assert.Contains("max_media_bytes_per_message", bigMedia.Body!["error"]!["message"]!.GetValue<string>());
        (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
        {
            instance_id = instanceId, to_number = "255700300001", media_data = Jpeg(1000), mime_type = "image/jpeg", wait = 0,
        })).EnsureOk();
        var campaignMedia = await client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = instanceId, recipients = new[] { "255700200001" }, media_data = Jpeg(1001), mime_type = "image/jpeg", scheduled_at = later,
        });
        Assert.Equal(417, campaignMedia.Status);
        Assert.Equal("media_data", campaignMedia.ErrorField);

        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { customer = code, max_media_bytes_per_message = "default" })).EnsureOk();
        (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
        {
            instance_id = instanceId, to_number = "255700300001", media_data = Jpeg(1001), mime_type = "image/jpeg", wait = 0,
        })).EnsureOk();
    }

    [Fact]
    public async Task Update_customer_is_for_operators_and_checks_its_arguments()
    {
        var (code, client) = await CustomerAsync(new { name = "Someone", email = $"{Guid.NewGuid():N}@example.com" });
        Assert.Equal(403, (await client.CallAsync("wap_bridge.api.admin.update_customer", new { customer = code, max_instances = 100 })).Status);

        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        foreach (var bad in new object[] { new { customer = code, max_instances = "-1" }, new { customer = code, max_instances = "lots" } })
        {
            var refused = await admin.CallAsync("wap_bridge.api.admin.update_customer", bad);
            Assert.Equal(417, refused.Status);
            Assert.Equal("max_instances", refused.ErrorField);
        }
        Assert.Equal(417, (await admin.CallAsync("wap_bridge.api.admin.create_customer", new { name = "X", email = "x@example.com", max_recipients_per_campaign = "3000000000" })).Status);
        Assert.Equal(404, (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { customer = "CUST-9999", max_instances = 1 })).Status);
        Assert.Equal("missing_argument", (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { max_instances = 1 })).ErrorCode);

        var renamed = (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { customer = code.ToLowerInvariant(), name = "Someone Else" })).EnsureOk().Message!;
        Assert.Equal("Someone Else", renamed["name"]!.GetValue<string>());
        Assert.Equal(code, renamed["customer"]!.GetValue<string>());
    }
}
