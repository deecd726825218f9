using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// The engine inside the gateway (the instance actor connects it, the outbox sends through it) against the fake Graph:
/// the wamid is stored beside our id, and an unconfirmed send fails visibly instead of going out twice.
/// </summary>
public abstract class CloudApiHostTests(string provider) : IAsyncLifetime
{
    private const string Whatsapp = "wap_bridge.api.whatsapp.";
    private FakeGraph _graph = null!;
    private WapBridgeApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _app = new WapBridgeApp(provider, FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:CloudApi:GraphBaseUrl"] = _graph.BaseUrl.ToString(),
            ["WapBridge:Engines:CloudApi:RequestTimeout"] = "00:00:05",
        }));
        await _app.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _graph.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// A Cloud API instance of a new customer, connected: made as a simulator instance and turned into a Cloud API one in
    /// the database (creating one through the API is another part of the issue), then restarted.
    /// </summary>
    private async Task<(HttpClient Client, string InstanceId)> ConnectedInstanceAsync()
    {
        var customer = await _app.CreateCustomerAsync();
        var client = _app.CreateApiClient(customer.TokenHeader);
        var code = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        var protector = _app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("WapBridge.Instances.EngineCredentials");
        var sealedCredentials = protector.Protect(FakeGraph.DefaultNumber.Credentials.ToJson());
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
            await db.Instances.Where(i => i.Code == code)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.Engine, CloudApiEngine.EngineName).SetProperty(i => i.EngineCredentials, sealedCredentials), TestContext.Current.CancellationToken);
        (await client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = code })).EnsureOk();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var status = (await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = code })).EnsureOk().Message!;
            if (status["status"]?.GetValue<string>() == "connected")
            {
                Assert.Equal("255700000111", status["phone_number"]?.GetValue<string>());
                return (client, code);
            }
            Assert.True(DateTime.UtcNow < deadline, $"the Cloud API instance never connected: {status.ToJsonString()}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private async Task<string?> EngineIdOfAsync(string id)
    {
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.Messages.Where(m => m.SerializedId == id).Select(m => m.EngineMessageId).SingleAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_text_goes_to_graph_and_keeps_our_id_with_the_wamid_beside_it()
    {
        _app.SkipIfUnavailable();
        var (client, instance) = await ConnectedInstanceAsync();

        var answer = (await client.CallAsync(Whatsapp + "send_api_message", new { instance_id = instance, to_number = "255712345678", message = "Karibu" })).EnsureOk().Message!;
        var id = answer["id"]!.GetValue<string>();
        var sent = await client.WaitForMessageAsync(id, m => m["status"]?.GetValue<string>() is "sent" or "failed");

        Assert.Equal("sent", sent["status"]!.GetValue<string>());
        Assert.Equal(id, sent["id"]!.GetValue<string>());
        var send = Assert.Single(_graph.Sends);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"messaging_product":"whatsapp","recipient_type":"individual","to":"255712345678","type":"text","text":{"preview_url":false,"body":"Karibu"}}
            """), send.Json), send.Body);
        var wamid = await EngineIdOfAsync(id);
        Assert.StartsWith("wamid.", wamid, StringComparison.Ordinal);
        Assert.NotEqual(id, wamid);
    }

    [Fact]
    public async Task A_send_graph_answered_with_a_5xx_fails_visibly_and_goes_out_only_once()
    {
        _app.SkipIfUnavailable();
        var (client, instance) = await ConnectedInstanceAsync();
        _graph.FailNext(1, 500, 131000);

        var id = (await client.CallAsync(Whatsapp + "send_api_message", new { instance_id = instance, to_number = "255712345678", message = "Once" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var failed = await client.WaitForMessageAsync(id, m => m["status"]?.GetValue<string>() is "sent" or "failed");

        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Contains(GraphErrorCodes.Unconfirmed, failed.ToJsonString(), StringComparison.Ordinal);
        await Task.Delay(1500, TestContext.Current.CancellationToken); // the outbox's sweep runs every 200 ms: time to send again if it would
        Assert.Single(_graph.Sends);
        Assert.Null(await EngineIdOfAsync(id));
    }
}

[Trait("Category", "Integration")]
public sealed class SqliteCloudApiHostTests() : CloudApiHostTests("sqlite");

[Trait("Category", "Integration")]
public sealed class PostgresCloudApiHostTests() : CloudApiHostTests("postgres");
