using System.Text.Json.Nodes;
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
public abstract class CloudApiHostTests(CloudApiApp app)
{
    private const string Whatsapp = "wap_bridge.api.whatsapp.";
    private const string Customer = "255712345678";

    /// <summary>
    /// A connected Cloud API instance of a new customer whom <see cref="Customer"/> wrote a moment ago (the 24-hour window
    /// is open, as for a reply), on a number of its own so tests sharing the fake Graph stay apart.
    /// </summary>
    private async Task<(HttpClient Client, string InstanceId, string PhoneNumberId)> ConnectedInstanceAsync()
    {
        var instance = await app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var id = await db.Instances.Where(i => i.Code == instance.InstanceId).Select(i => i.Id).SingleAsync(TestContext.Current.CancellationToken);
            await app.Services.GetRequiredService<ServiceWindowStore>().RecordInboundAsync(id, Customer, DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);
        }
        return (instance.Client, instance.InstanceId, instance.Number.PhoneNumberId);
    }

    /// <summary>The sends Graph got from one business number (the fake Graph is shared by the class's tests).</summary>
    private List<FakeGraphRequest> SendsFrom(string phoneNumberId) =>
        app.Graph.Sends.Where(r => r.Path.Contains($"/{phoneNumberId}/", StringComparison.Ordinal)).ToList();

    private async Task<string?> EngineIdOfAsync(string id)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.Messages.Where(m => m.SerializedId == id).Select(m => m.EngineMessageId).SingleAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_text_goes_to_graph_and_keeps_our_id_with_the_wamid_beside_it()
    {
        app.SkipIfUnavailable();
        var (client, instance, phoneNumberId) = await ConnectedInstanceAsync();

        var answer = (await client.CallAsync(Whatsapp + "send_api_message", new { instance_id = instance, to_number = Customer, message = "Karibu" })).EnsureOk().Message!;
        var id = answer["id"]!.GetValue<string>();
        var sent = await client.WaitForMessageAsync(id, m => m["status"]?.GetValue<string>() is "sent" or "failed");

        Assert.Equal("sent", sent["status"]!.GetValue<string>());
        Assert.Equal(id, sent["id"]!.GetValue<string>());
        var send = Assert.Single(SendsFrom(phoneNumberId));
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
        app.SkipIfUnavailable();
        var (client, instance, phoneNumberId) = await ConnectedInstanceAsync();
        app.Graph.FailNext(1, 500, 131000);

        var id = (await client.CallAsync(Whatsapp + "send_api_message", new { instance_id = instance, to_number = Customer, message = "Once" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var failed = await client.WaitForMessageAsync(id, m => m["status"]?.GetValue<string>() is "sent" or "failed");

        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Contains(GraphErrorCodes.Unconfirmed, failed.ToJsonString(), StringComparison.Ordinal);
        await Task.Delay(1500, TestContext.Current.CancellationToken); // the outbox's sweep runs every 200 ms: time to send again if it would
        Assert.Single(SendsFrom(phoneNumberId));
        Assert.Null(await EngineIdOfAsync(id));
    }
}

[Trait("Category", "Integration")]
public sealed class SqliteCloudApiHostTests(SqliteCloudApiApp app) : CloudApiHostTests(app), IClassFixture<SqliteCloudApiApp>;

[Trait("Category", "Integration")]
public sealed class PostgresCloudApiHostTests(PostgresCloudApiApp app) : CloudApiHostTests(app), IClassFixture<PostgresCloudApiApp>;

/// <summary>
/// The warm-up's new-contact budget (contract §12) protects numbers on unofficial engines; on the Cloud API Meta caps new
/// conversations itself, so a Cloud API number on its first day is not held at WapBridge's day-one budget.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CloudApiNewContactBudgetTests() : IAsyncLifetime
{
    private readonly CloudApiApp _app = new(settings: GenerousBudget.Shipped());

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task More_new_contacts_than_the_day_one_budget_all_go_out_on_the_first_day()
    {
        var ct = TestContext.Current.CancellationToken;
        var instance = await _app.CreateCloudApiInstanceAsync(CloudApiTestInstances.NewNumber());
        var numbers = Enumerable.Range(0, Core.Health.HealthOptions.DefaultWarmUp[0] + 5).Select(i => $"2557130{i:D5}").ToList();
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(ct))
        {
            var id = await db.Instances.Where(i => i.Code == instance.InstanceId).Select(i => i.Id).SingleAsync(ct);
            foreach (var number in numbers)
                await _app.Services.GetRequiredService<ServiceWindowStore>().RecordInboundAsync(id, number, DateTimeOffset.UtcNow, ct);
        }

        foreach (var number in numbers)
        {
            var answer = (await instance.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
                new { instance_id = instance.InstanceId, to_number = number, message = "Karibu", wait = 15 })).EnsureOk().Message!;
            Assert.Equal("sent", answer["status"]!.GetValue<string>());
        }
        Assert.Equal(numbers.Count, _app.Graph.Sends.Count(r => r.Path.Contains($"/{instance.Number.PhoneNumberId}/", StringComparison.Ordinal)));
    }
}
