using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Engines;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>The simulator's receipts come at once: they land while the runner is still settling the recipients it sent to.</summary>
internal static class ReceiptRace
{
    public static Dictionary<string, string?> Settings() => FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Engines:Simulator:DeliveredAfter"] = "00:00:00",
        ["WapBridge:Engines:Simulator:ReadAfter"] = "00:00:00.010",
        ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
        ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
    });
}

public sealed class SqliteReceiptRaceApp() : WapBridgeApp("sqlite", ReceiptRace.Settings());

public sealed class PostgresReceiptRaceApp() : WapBridgeApp("postgres", ReceiptRace.Settings());

/// <summary>
/// Issue 17: one owner (<see cref="CampaignRecipientSync"/>) moves campaign recipients to their messages' statuses, for
/// receipts and for the runner alike. Receipts racing the runner for the same recipients must leave each recipient at
/// its message's furthest status, counted once in the campaign's counters.
/// </summary>
public abstract class CampaignRecipientSyncTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.campaigns.";

    private static async Task<JsonNode> StatusAsync(HttpClient client, string campaign) =>
        (await client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!;

    private static int Int(JsonNode status, string key) => status[key]!.GetValue<int>();

    [Fact]
    public async Task Receipts_applied_while_the_runner_settles_the_same_recipients_count_each_once_at_the_furthest_state()
    {
        app.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        const int count = 40;
        var sender = await app.CreateConnectedAsync();
        // Scheduled later: no runner touches it but the ones this test plays.
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "race", recipients = Enumerable.Range(0, count).Select(i => $"2557576{i:D5}").ToArray(),
            scheduled_at = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        // As the runner and the outbox leave them: each recipient "sending" with its message, which the outbox sent.
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        long campaignId;
        int instanceId;
        List<Message> messages;
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var instance = await db.Instances.AsNoTracking().SingleAsync(i => i.Code == sender.InstanceId, ct);
            instanceId = instance.Id;
            campaignId = await db.Campaigns.Where(c => c.Code == campaign).Select(c => c.Id).SingleAsync(ct);
            var recipients = await db.CampaignRecipients.AsNoTracking().Where(r => r.CampaignId == campaignId).OrderBy(r => r.Id).ToListAsync(ct);
            Assert.Equal(count, recipients.Count);
            messages = recipients.ConvertAll(r => OutboundMessages.New(instance, r.Number!, "race", null, null, MessageSources.Campaign, campaignId,
                DateTimeOffset.UtcNow, TimeSpan.FromHours(1)));
            messages.ForEach(m => m.Status = MessageStatus.Sent);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await OutboundMessages.InsertAsync(db, messages, ct);
            foreach (var (recipient, message) in recipients.Zip(messages))
                await db.CampaignRecipients.Where(r => r.Id == recipient.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.State, RecipientState.Sending).SetProperty(r => r.MessageId, message.Id), ct);
            await tx.CommitAsync(ct);
        }
        var messageIds = messages.ConvertAll(m => m.Id);

        // Delivered and read receipts (some twice) land on the instance's node while the runner settles the same
        // recipients, from the sent statuses to whatever the receipts have made of them by then.
        var receipts = app.Services.GetRequiredService<MessageReceipts>();
        var sync = app.Services.GetRequiredService<CampaignRecipientSync>();
        IReadOnlyList<(int, MessageStatusEvent)> Receipts(MessageAck ack) =>
            messages.ConvertAll(m => (instanceId, new MessageStatusEvent(sender.InstanceId, DateTimeOffset.UtcNow, m.WaMessageId, ack)));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Race(Func<Task> step)
        {
            await start.Task;
            await step();
        }
        var racers = new List<Task>
        {
            Task.Run(() => Race(async () =>
            {
                await receipts.ApplyAsync(Receipts(MessageAck.Device));
                await receipts.ApplyAsync(Receipts(MessageAck.Read));
            }), ct),
            Task.Run(() => Race(() => receipts.ApplyAsync(Receipts(MessageAck.Read))), ct),
            Task.Run(() => Race(() => receipts.ApplyAsync(Receipts(MessageAck.Device))), ct),
        };
        for (var i = 0; i < 4; i++)
            racers.Add(Task.Run(() => Race(async () =>
            {
                for (var round = 0; round < 3; round++)
                    await sync.SyncAsync(campaignId, messageIds, ct);
            }), ct));
        start.SetResult();
        await Task.WhenAll(racers);

        var status = await StatusAsync(sender.Client, campaign);
        Assert.Equal(count, Int(status, "sent"));
        Assert.Equal(count, Int(status, "delivered"));
        Assert.Equal(count, Int(status, "read"));
        Assert.Equal(0, Int(status, "pending"));
        Assert.Equal(0, Int(status, "failed"));
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var states = await db.CampaignRecipients.Where(r => r.CampaignId == campaignId).Select(r => r.State).ToListAsync(ct);
            Assert.All(states, s => Assert.Equal(RecipientState.Read, s));
        }

        // The runner settling them again later (a resume) changes nothing.
        await sync.SyncAsync(campaignId, messageIds, ct);
        var again = await StatusAsync(sender.Client, campaign);
        Assert.Equal((count, count, count), (Int(again, "sent"), Int(again, "delivered"), Int(again, "read")));
    }

    [Fact]
    public async Task A_campaign_whose_receipts_race_its_runner_ends_with_every_recipient_read_and_counted_once()
    {
        app.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        const int count = 250;
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "fast receipts", recipients = Enumerable.Range(0, count).Select(i => $"2557577{i:D5}").ToArray(),
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonNode status;
        while (true)
        {
            status = await StatusAsync(sender.Client, campaign);
            // Never more than there are recipients, whatever moment the counters are read at.
            Assert.InRange(Int(status, "read"), 0, Int(status, "delivered"));
            Assert.InRange(Int(status, "delivered"), 0, Int(status, "sent"));
            Assert.InRange(Int(status, "sent"), 0, count);
            if (status["status"]!.GetValue<string>() == "completed" && Int(status, "read") == count)
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the campaign did not finish with every recipient read: {status.ToJsonString()}");
            await Task.Delay(50, ct);
        }
        Assert.Equal(count, Int(status, "sent"));
        Assert.Equal(count, Int(status, "delivered"));
        Assert.Equal(0, Int(status, "pending"));
        Assert.Equal(0, Int(status, "failed"));

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(ct);
        var campaignId = await db.Campaigns.Where(c => c.Code == campaign).Select(c => c.Id).SingleAsync(ct);
        var states = await db.CampaignRecipients.Where(r => r.CampaignId == campaignId).GroupBy(r => r.State)
            .Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(ct);
        var only = Assert.Single(states);
        Assert.Equal((RecipientState.Read, count), (only.State, only.Count));
        Assert.Equal(count, await db.Messages.CountAsync(m => m.CampaignId == campaignId && m.Status == MessageStatus.Read, ct));
    }
}

public sealed class SqliteCampaignRecipientSyncTests(SqliteReceiptRaceApp app) : CampaignRecipientSyncTests(app), IClassFixture<SqliteReceiptRaceApp>;

public sealed class PostgresCampaignRecipientSyncTests(PostgresReceiptRaceApp app) : CampaignRecipientSyncTests(app), IClassFixture<PostgresReceiptRaceApp>;
