using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

public sealed class OutboxDurabilityTests
{
    private static string NewDataDir() => Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));

    private static async Task<int> InboundCountAsync(HttpClient client, string instanceId, string? messageId = null)
    {
        var inbox = (await client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = instanceId, direction = "inbound", limit = 500 })).EnsureOk().Message!;
        return inbox["data"]!.AsArray().Count(m => messageId is null || m!["id"]!.GetValue<string>().EndsWith(messageId.Split('_')[^1]));
    }

    [Fact]
    public async Task Messages_accepted_before_a_kill_are_delivered_exactly_once_after_restart()
    {
        var dataDir = NewDataDir();
        SendingCustomer alice, bob;
        string delivered, queued, midSend;

        // Throttled to one send per ~17 minutes: the first message goes out, the rest wait in the outbox.
        var throttled = FastMessaging.Settings(new Dictionary<string, string?> { ["WapBridge:Messaging:InstanceMessagesPerSecond"] = "0.001" });
        await using (var first = new WapBridgeApp(settings: throttled, dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            alice = await first.CreateConnectedAsync();
            bob = await first.ConnectInstanceAsync(alice.Customer);
            delivered = await SendAsync(alice, bob.Phone, "one", wait: 10);
            queued = await SendAsync(alice, bob.Phone, "two", wait: 0);
            midSend = await SendAsync(alice, bob.Phone, "three", wait: 0);
            Assert.Equal(1, await InboundCountAsync(bob.Client, bob.InstanceId));

            // The kill lands after "three" was claimed for sending but before the engine answered.
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
            await db.Messages.Where(m => m.SerializedId == midSend).ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, MessageStatus.Sending));
        }

        await using var second = new WapBridgeApp(settings: FastMessaging.Settings(), dataDir: dataDir);
        await second.InitializeAsync();
        using var aliceAgain = second.CreateApiClient(alice.Customer.TokenHeader);
        using var bobAgain = second.CreateApiClient(bob.Customer.TokenHeader);

        foreach (var id in new[] { queued, midSend })
            await aliceAgain.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read");
        var record = (await aliceAgain.CallAsync("wap_bridge.api.whatsapp.message_status", new { id = delivered })).EnsureOk().Message!;
        Assert.NotEqual("queued", record["status"]!.GetValue<string>());

        // "sent" is the sender's side; the recipient records the message a moment later.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await InboundCountAsync(bobAgain, bob.InstanceId) < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(1, await InboundCountAsync(bobAgain, bob.InstanceId, delivered));
        Assert.Equal(1, await InboundCountAsync(bobAgain, bob.InstanceId, queued));
        Assert.Equal(1, await InboundCountAsync(bobAgain, bob.InstanceId, midSend));
        Assert.Equal(3, await InboundCountAsync(bobAgain, bob.InstanceId));
    }

    [Fact]
    public async Task A_message_sent_on_a_dropped_connection_is_queued_and_sent_on_reconnect()
    {
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();

        await app.Services.GetRequiredService<SimulatorNetwork>().DropConnectionAsync(sender.InstanceId, TestContext.Current.CancellationToken);
        var answer = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255755123456", message = "while offline" })).EnsureOk();

        Assert.Equal("queued", answer.Message!["status"]!.GetValue<string>());
        var sent = await sender.Client.WaitForMessageAsync(answer.Message!["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() != "queued");
        Assert.NotEqual("failed", sent["status"]!.GetValue<string>());
        var status = (await sender.Client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = sender.InstanceId })).EnsureOk().Message!;
        Assert.Equal("connected", status["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_queued_message_fails_as_expired_when_the_instance_stays_away_past_its_ttl()
    {
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Messaging:QueuedTimeToLive"] = "00:00:01",
        }));
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();

        // The phone unlinks while the connection is down: the reconnect finds no credentials and shows a QR instead.
        await app.Services.GetRequiredService<SimulatorNetwork>().DropConnectionAsync(sender.InstanceId, TestContext.Current.CancellationToken);
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
            await db.Instances.Where(i => i.Code == sender.InstanceId).ExecuteUpdateAsync(s => s.SetProperty(i => i.EngineCredentials, (string?)null), TestContext.Current.CancellationToken);
        var id = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255755123456", message = "too late" })).EnsureOk().Message!["id"]!.GetValue<string>();

        var expired = await sender.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() != "queued");
        Assert.Equal("failed", expired["status"]!.GetValue<string>());
        Assert.Equal("expired", expired["error_code"]!.GetValue<string>());
        Assert.Equal(-1, expired["ack"]!.GetValue<int>());
    }

    private static async Task<string> SendAsync(SendingCustomer from, string to, string text, int wait) =>
        (await from.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = from.InstanceId, to_number = to, message = text, wait }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
}
