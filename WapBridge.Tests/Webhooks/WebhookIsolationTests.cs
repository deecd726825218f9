using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Webhooks;

/// <summary>Attempts that take the shipped 15 s and more, so a hanging receiver holds its attempts for a long time.</summary>
public static class PatientWebhooks
{
    public static Dictionary<string, string?> Settings() =>
        FastWebhooks.Settings(new Dictionary<string, string?> { ["WapBridge:Webhooks:AttemptTimeout"] = "00:00:30" });
}

public sealed class SqlitePatientWebhookApp() : WapBridgeApp("sqlite", PatientWebhooks.Settings());

public sealed class PostgresPatientWebhookApp() : WapBridgeApp("postgres", PatientWebhooks.Settings());

/// <summary>One tenant's broken or slow receiver must not hold up another tenant's webhooks.</summary>
public abstract class WebhookIsolationTests(WapBridgeApp app)
{
    private static Task<ApiAnswer> InjectAsync(SendingCustomer sender, string text) =>
        sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255755123456", message = text });

    [Fact]
    public async Task A_stored_secret_with_a_line_break_fails_only_its_own_delivery()
    {
        app.SkipIfUnavailable();
        var a = await app.CreateConnectedAsync();
        var b = await app.CreateConnectedAsync();
        await using var receiverA = await WebhookReceiver.StartAsync();
        await using var receiverB = await WebhookReceiver.StartAsync();
        (await a.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiverA.Url, secret = "a-valid-secret-0123456789" })).EnsureOk();
        (await b.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiverB.Url, secret = "b-valid-secret-0123456789" })).EnsureOk();
        // Saved before secrets were checked, as legacy data would be: set_webhook refuses it now.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var endpoint = await db.WebhookEndpoints.SingleAsync(e => db.Customers.Any(c => c.Id == e.CustomerId && c.Code == a.Customer.Code),
                TestContext.Current.CancellationToken);
            endpoint.SecretProtected = WebhookSettingsService.SecretProtector(app.Services.GetRequiredService<IDataProtectionProvider>())
                .Protect("legacy-secret\r\nInjected: yes");
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        (await InjectAsync(a, "for A")).EnsureOk();
        (await InjectAsync(b, "for B")).EnsureOk();

        var hook = Assert.Single(await receiverB.WaitForAsync(r => r.Count >= 1));
        Assert.Equal("for B", JsonNode.Parse(hook.Body)!["message"]!["body"]!.GetValue<string>());
        var failed = await WaitForDeliveryAsync(a, d => d["attempts"]!.GetValue<int>() >= 1);
        Assert.Contains("save the webhook settings again", failed["last_error"]!.GetValue<string>());
        Assert.DoesNotContain("Injected", failed.ToJsonString());
        Assert.Null(failed["last_status_code"]);
        // Retried on its schedule and then dead, never sent: A's receiver gets nothing, let alone duplicates.
        var dead = await WaitForDeliveryAsync(a, d => d["state"]!.GetValue<string>() == "dead");
        Assert.Equal(4, dead["attempts"]!.GetValue<int>());
        Assert.Empty(receiverA.Received);
        Assert.Single(receiverB.Received);
    }

    [Fact]
    public async Task A_hanging_receiver_delays_only_its_own_deliveries()
    {
        app.SkipIfUnavailable();
        var a = await app.CreateConnectedAsync();
        var b = await app.CreateConnectedAsync();
        await using var receiverA = await WebhookReceiver.StartAsync();
        await using var hanging = new HangingReceiver();
        (await a.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiverA.Url })).EnsureOk();
        (await b.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = hanging.Url })).EnsureOk();

        (await b.Client.CallAsync("wap_bridge.api.simulator.inbound_messages", new
        {
            instance_id = b.InstanceId,
            messages = Enumerable.Range(0, 60).Select(i => new { from_number = "255755123456", message = $"backlog {i}" }).ToArray(),
        })).EnsureOk();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (hanging.Connections == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "B's deliveries were never attempted");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        (await InjectAsync(a, "for A")).EnsureOk();

        // B's attempts hang for 30 s each; A's delivery must not wait behind them.
        var hook = Assert.Single(await receiverA.WaitForAsync(r => r.Count >= 1, seconds: 15));
        Assert.Equal("for A", JsonNode.Parse(hook.Body)!["message"]!["body"]!.GetValue<string>());
        Assert.InRange(hanging.Connections, 1, new WebhookOptions().MaxConcurrencyPerEndpoint);
    }

    private static async Task<JsonNode> WaitForDeliveryAsync(SendingCustomer sender, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var data = (await sender.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["data"]!.AsArray();
            if (data.FirstOrDefault(d => done(d!)) is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("delivery never reached the state: " + data.ToJsonString());
            await Task.Delay(50);
        }
    }
}

public sealed class SqliteWebhookIsolationTests(SqlitePatientWebhookApp app) : WebhookIsolationTests(app), IClassFixture<SqlitePatientWebhookApp>;

public sealed class PostgresWebhookIsolationTests(PostgresPatientWebhookApp app) : WebhookIsolationTests(app), IClassFixture<PostgresPatientWebhookApp>;

/// <summary>The shipped configuration: no loopback or private targets.</summary>
public sealed class PublicOnlyWebhookApp() : WapBridgeApp("sqlite", FastWebhooks.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Webhooks:AllowLoopbackTargets"] = "false",
    ["WapBridge:Webhooks:AllowPrivateTargets"] = "false",
}));

/// <summary>Webhooks cannot be aimed inwards, and what they report reveals nothing about the server's network.</summary>
public sealed class WebhookSsrfTests(PublicOnlyWebhookApp app) : IClassFixture<PublicOnlyWebhookApp>
{
    [Theory]
    [InlineData("http://192.0.2.1/")]
    [InlineData("http://[::ffff:127.0.0.1]/")]
    [InlineData("http://[64:ff9b::7f00:1]/")]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[::127.0.0.1]/")]
    [InlineData("http://198.18.0.1/")]
    [InlineData("http://[2002:7f00:1::1]/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    public async Task Set_webhook_refuses_inward_addresses(string url)
    {
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var answer = await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url });
        Assert.Equal(417, answer.Status);
        Assert.Equal(("url", "private_target"), (answer.ErrorField, answer.ErrorCode));
    }

    [Theory]
    [InlineData("http://192.0.2.1/")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/")]
    [InlineData("http://[64:ff9b::7f00:1]/")]
    [InlineData("http://127.0.0.1:{port}/hook")]
    public async Task Test_webhook_to_a_stored_inward_address_is_refused_before_connecting(string url)
    {
        // A loopback listener: had the mapped or plain loopback address been connected to, it would have seen it.
        await using var witness = new HangingReceiver();
        url = url.Replace("{port}", witness.Port.ToString());
        var sender = await app.CreateConnectedAsync();
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = "https://hooks.invalid/wapbridge" })).EnsureOk();
        // Stored as legacy data would be, before addresses were checked this closely.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var endpoint = await db.WebhookEndpoints.SingleAsync(e => db.Customers.Any(c => c.Id == e.CustomerId && c.Code == sender.Customer.Code),
                TestContext.Current.CancellationToken);
            endpoint.Url = url;
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var result = (await sender.Client.CallAsync("wap_bridge.api.settings.test_webhook")).EnsureOk().Message!;

        Assert.False(result["delivered"]!.GetValue<bool>());
        Assert.Null(result["status_code"]);
        Assert.Equal(WebhookTargets.RefusedMessage, result["error"]!.GetValue<string>());
        Assert.Equal(0, witness.Connections);
        var delivery = (await sender.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["data"]![0]!;
        Assert.Equal(WebhookTargets.RefusedMessage, delivery["last_error"]!.GetValue<string>());
        Assert.Null(delivery["last_response"]);
    }
}
