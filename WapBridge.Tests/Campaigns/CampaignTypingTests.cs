using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>An outbox paced at a few messages a second, so what happens before each send can be watched.</summary>
public sealed class SqlitePacedOutboxApp() : WapBridgeApp("sqlite", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Messaging:InstanceMessagesPerSecond"] = "4",
    ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
    ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
}));

/// <summary>
/// Issue 17: "typing…" is an engine call like any other, so it goes through the outbox: shown right before a campaign
/// message is sent, in the outbox's order and pace, and never for a recipient nothing is sent to.
/// </summary>
public sealed class CampaignTypingTests(SqlitePacedOutboxApp app) : IClassFixture<SqlitePacedOutboxApp>
{
    private const string P = "wap_bridge.api.campaigns.";

    [Fact]
    public async Task A_campaign_shows_typing_right_before_each_message_it_sends_and_never_to_a_recipient_it_does_not_send_to()
    {
        var ct = TestContext.Current.CancellationToken;
        var sender = await app.CreateConnectedAsync();
        var network = app.Services.GetRequiredService<SimulatorNetwork>();
        (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255757881009", message = "STOP" }))
            .EnsureOk();
        // Unthrottled: the runner queues all five in one batch, which the outbox then sends four a second.
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId,
            message = "Hi {{name}}",
            recipients = Enumerable.Range(1, 5).Select(i => (object)new { phone_number = $"25575788100{i}", name = $"n{i}" })
                .Append(new { phone_number = "255757881009", name = "opted out" })
                .Append(new { phone_number = "255757881008" })
                .ToArray(),
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        int instanceId;
        await using (var db = await factory.CreateDbContextAsync(ct))
            instanceId = await db.Instances.Where(i => i.Code == sender.InstanceId).Select(i => i.Id).SingleAsync(ct);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        System.Text.Json.Nodes.JsonNode status;
        while (true)
        {
            // Read before the sends are counted: a typing indicator precedes its send, so at most one is ahead.
            var typing = network.TypingIndicators(sender.InstanceId);
            int sent;
            await using (var db = await factory.CreateDbContextAsync(ct))
                sent = await db.Messages.CountAsync(m => m.InstanceId == instanceId && m.CampaignId != null && m.SentAt != null, ct);
            Assert.True(typing <= sent + 1, $"{typing} typing indicators shown with only {sent} messages sent");
            status = (await sender.Client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!;
            if (status["status"]!.GetValue<string>() == "completed")
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the campaign did not complete: {status.ToJsonString()}");
            await Task.Delay(20, ct);
        }

        Assert.Equal(5, status["sent"]!.GetValue<int>());
        Assert.Equal(1, status["skipped"]!.GetValue<int>());
        Assert.Equal(1, status["failed"]!.GetValue<int>());
        Assert.Equal(5, network.TypingIndicators(sender.InstanceId));
    }

    [Fact]
    public async Task A_plain_api_send_shows_no_typing()
    {
        var sender = await app.CreateConnectedAsync();
        var network = app.Services.GetRequiredService<SimulatorNetwork>();
        var id = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "255757882001", message = "hello" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        await sender.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read");
        Assert.Equal(0, network.TypingIndicators(sender.InstanceId));
    }
}
