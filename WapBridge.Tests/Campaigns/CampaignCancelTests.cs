using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>
/// Cancel (contract §3): recipients not sent become <c>cancelled</c>, counted apart, and nothing of the campaign is
/// sent afterwards, not even a message already waiting in the outbox.
/// </summary>
public abstract class CampaignCancelTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.campaigns.";

    private static async Task<JsonNode> StatusAsync(HttpClient client, string campaign) =>
        (await client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!;

    private static async Task<int> CountAsync(HttpClient client, string campaign, string state) =>
        (await client.CallAsync(P + "campaign_recipients", new { campaign, state, limit = 1 })).EnsureOk().Message!["total"]!.GetValue<int>();

    private static int Int(JsonNode status, string key) => status[key]!.GetValue<int>();

    [Fact]
    public async Task Pending_recipients_become_cancelled_and_the_counters_add_up()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "x", recipients = new[] { "255757556001", "255757556002", "255757556003", "255757556004" },
            throttle = new { min_delay_seconds = 30, max_delay_seconds = 30 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Int(await StatusAsync(sender.Client, campaign), "sent") < 1 && DateTime.UtcNow < deadline)
            await Task.Delay(100, TestContext.Current.CancellationToken);

        var cancelled = (await sender.Client.CallAsync(P + "cancel_campaign", new { campaign })).EnsureOk().Message!;
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.Equal(0, Int(cancelled, "pending"));
        Assert.Equal(3, Int(cancelled, "cancelled"));
        Assert.Equal(1, Int(cancelled, "sent"));
        Assert.Equal(100, cancelled["progress"]!.GetValue<double>());
        Assert.Equal(3, await CountAsync(sender.Client, campaign, "cancelled"));
        Assert.Equal(0, await CountAsync(sender.Client, campaign, "pending"));

        // A second cancel changes nothing.
        var again = (await sender.Client.CallAsync(P + "cancel_campaign", new { campaign })).EnsureOk().Message!;
        Assert.Equal(3, Int(again, "cancelled"));
        var listed = (await sender.Client.CallAsync(P + "list_campaigns", new { })).EnsureOk().Message!["data"]!.AsArray()
            .Single(c => c!["campaign"]!.GetValue<string>() == campaign)!;
        Assert.Equal(3, Int(listed, "cancelled"));
    }

    [Fact]
    public async Task A_message_waiting_in_the_outbox_is_withdrawn_and_never_sent()
    {
        var sender = await app.CreateConnectedAsync();
        var network = app.Services.GetRequiredService<SimulatorNetwork>();
        var ct = TestContext.Current.CancellationToken;
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "held", recipients = new[] { "255757557001", "255757557002" },
            scheduled_at = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        // The runner's state after it queued the first recipient's message while the phone was away: the message is in
        // the outbox (queued), the recipient "sending". The phone unlinked meanwhile, so nothing can send it yet.
        await network.DropConnectionAsync(sender.InstanceId, ct);
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(ct))
            await db.Instances.Where(i => i.Code == sender.InstanceId).ExecuteUpdateAsync(s => s.SetProperty(i => i.EngineCredentials, (string?)null), ct);
        var queuedId = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255757557001", message = "held", wait = 0 })).EnsureOk().Message!["id"]!.GetValue<string>();
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var campaignId = await db.Campaigns.Where(c => c.Code == campaign).Select(c => c.Id).SingleAsync(ct);
            var message = await db.Messages.SingleAsync(m => m.SerializedId == queuedId, ct);
            Assert.Equal(MessageStatus.Queued, message.Status);
            await db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.CampaignId, campaignId).SetProperty(m => m.Source, MessageSources.Campaign), ct);
            await db.CampaignRecipients.Where(r => r.CampaignId == campaignId && r.Number == "255757557001").ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, RecipientState.Sending).SetProperty(r => r.MessageId, message.Id), ct);
        }

        var cancelled = (await sender.Client.CallAsync(P + "cancel_campaign", new { campaign })).EnsureOk().Message!;
        Assert.Equal(2, Int(cancelled, "cancelled"));
        Assert.Equal(0, Int(cancelled, "pending"));
        var withdrawn = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id = queuedId })).EnsureOk().Message!;
        Assert.Equal("failed", withdrawn["status"]!.GetValue<string>());
        Assert.Equal(CampaignService.CancelledErrorCode, withdrawn["error_code"]!.GetValue<string>());

        // The phone comes back: the outbox drains, and the withdrawn message stays unsent.
        var qrBy = DateTime.UtcNow.AddSeconds(10);
        while ((await sender.Client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = sender.InstanceId })).EnsureOk()
                   .Message!["status"]!.GetValue<string>() != "qr" && DateTime.UtcNow < qrBy)
            await Task.Delay(100, ct);
        await network.ScanAsync(sender.InstanceId, sender.Phone, "Back");
        var probe = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255757557009", message = "after" })).EnsureOk().Message!["id"]!.GetValue<string>();
        await sender.Client.WaitForMessageAsync(probe, r => r["status"]!.GetValue<string>() is not ("queued" or "sending"));
        var after = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.message_status", new { id = queuedId })).EnsureOk().Message!;
        Assert.Equal("failed", after["status"]!.GetValue<string>());
        Assert.Null(after["sent_at"]);
        Assert.Equal(2, await CountAsync(sender.Client, campaign, "cancelled"));
    }

    [Fact]
    public async Task Cancelling_a_fast_campaign_mid_run_sends_nothing_afterwards_and_every_recipient_is_counted_once()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "fast",
            recipients = Enumerable.Range(0, 300).Select(i => $"2557575{i:D5}").ToArray(),
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Int(await StatusAsync(sender.Client, campaign), "sent") < 1 && DateTime.UtcNow < deadline)
            await Task.Delay(20, TestContext.Current.CancellationToken);

        var cancelled = (await sender.Client.CallAsync(P + "cancel_campaign", new { campaign })).EnsureOk().Message!;
        Assert.True(Int(cancelled, "cancelled") > 0, cancelled.ToJsonString());

        // Let whatever was already with WhatsApp finish, then check rows, counters and messages agree, and stay so.
        JsonNode settled;
        var stableSince = DateTime.UtcNow;
        var last = "";
        while (true)
        {
            settled = await StatusAsync(sender.Client, campaign);
            var now = settled.ToJsonString();
            if (now != last) { last = now; stableSince = DateTime.UtcNow; }
            else if (DateTime.UtcNow - stableSince > TimeSpan.FromSeconds(1.5) && Int(settled, "pending") == 0) break;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Equal(300, Int(settled, "total"));
        Assert.Equal(Int(settled, "total"), Int(settled, "sent") + Int(settled, "failed") + Int(settled, "skipped") + Int(settled, "cancelled"));
        Assert.Equal(Int(settled, "cancelled"), await CountAsync(sender.Client, campaign, "cancelled"));
        var sentRows = 0;
        foreach (var state in new[] { "sent", "delivered", "read" })
            sentRows += await CountAsync(sender.Client, campaign, state);
        Assert.Equal(Int(settled, "sent"), sentRows);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        var campaignId = await db.Campaigns.Where(c => c.Code == campaign).Select(c => c.Id).SingleAsync(TestContext.Current.CancellationToken);
        var messages = await db.Messages.AsNoTracking().Where(m => m.CampaignId == campaignId).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Int(settled, "sent"), messages.Count(m => m.SentAt is not null));
        Assert.DoesNotContain(messages, m => m.Status is MessageStatus.Queued or MessageStatus.Sending);
        Assert.All(messages.Where(m => m.Status == MessageStatus.Failed), m => Assert.Equal(CampaignService.CancelledErrorCode, m.ErrorCode));
    }
}

public sealed class SqliteCampaignCancelTests(SqliteCampaignApp app) : CampaignCancelTests(app), IClassFixture<SqliteCampaignApp>;

public sealed class PostgresCampaignCancelTests(PostgresCampaignApp app) : CampaignCancelTests(app), IClassFixture<PostgresCampaignApp>;
