using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

public sealed class CampaignRestartTests
{
    private static Dictionary<string, string?> Settings() => FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
        ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
    });

    [Fact]
    public async Task A_campaign_killed_mid_run_resumes_and_sends_every_recipient_exactly_once()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        SendingCustomer sender, receiver;
        string campaign;
        var numbersSent = 0;
        await using (var first = new WapBridgeApp(settings: Settings(), dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            sender = await first.CreateConnectedAsync();
            receiver = await first.ConnectInstanceAsync(sender.Customer);
            campaign = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
            {
                instance_id = sender.InstanceId,
                message = "Hello {{name}}",
                recipients = new[] { receiver.Phone }.Concat(Enumerable.Range(1, 4).Select(i => $"25575744400{i}"))
                    .Select((number, i) => new { phone_number = number, name = $"copy {i + 1}" }).ToArray(),
                throttle = new { min_delay_seconds = 0.7, max_delay_seconds = 0.7 },
            })).EnsureOk().Message!["campaign"]!.GetValue<string>();

            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (numbersSent < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the campaign did not start");
                numbersSent = (await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!["sent"]!.GetValue<int>();
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        await using var second = new WapBridgeApp(settings: Settings(), dataDir: dataDir);
        await second.InitializeAsync();
        using var client = second.CreateApiClient(sender.Customer.TokenHeader);
        JsonNode status;
        // The restarted node first starts its silo and reconnects the instance, which under a full parallel run on two
        // cores has taken over 30 s; what this test checks is exactly-once, not speed.
        var until = DateTime.UtcNow.AddSeconds(90);
        do
        {
            Assert.True(DateTime.UtcNow < until, "the campaign did not finish after the restart");
            await Task.Delay(100, TestContext.Current.CancellationToken);
            status = (await client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!;
        } while (status["status"]!.GetValue<string>() != "completed");

        Assert.Equal(5, status["sent"]!.GetValue<int>());
        var outbound = (await client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = sender.InstanceId, direction = "outbound", limit = 100 }))
            .EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal(5, outbound.Count);
        Assert.Equal(5, outbound.Select(m => m!["to"]!.GetValue<string>()).Distinct().Count());
        using var receiverClient = second.CreateApiClient(receiver.Customer.TokenHeader);
        var inbox = (await receiverClient.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = receiver.InstanceId, direction = "inbound" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal("Hello copy 1", Assert.Single(inbox)!["body"]!.GetValue<string>());
    }
}
