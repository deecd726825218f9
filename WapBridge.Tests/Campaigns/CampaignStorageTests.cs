using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

public sealed class PostgresCampaignApp() : WapBridgeApp("postgres", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
    ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
}));

/// <summary>
/// Recipients are written in bulk outside EF (a prepared statement on SQLite, COPY on PostgreSQL): on each provider,
/// every column must read back as EF would have written it, and the runner must work from those rows.
/// </summary>
public abstract class CampaignStorageTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.campaigns.";

    [Fact]
    public async Task Bulk_written_recipients_read_back_whole_and_run_to_completion()
    {
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255757800009", message = "STOP" })).EnsureOk();
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        var create = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId,
            message = "Habari {{name}}",
            recipients = new object[]
            {
                new { phone_number = "255757800001", name = "Asha" },
                new { phone_number = "0757 800002", name = "Baraka" },
                "255757800001",
                "not a number",
                "255757800009",
            },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
            scheduled_at = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        })).EnsureOk().Message!;
        var campaign = create["campaign"]!.GetValue<string>();
        Assert.Equal(3, create["total"]!.GetValue<int>());
        Assert.Equal(1, create["duplicates"]!.GetValue<int>());

        var added = (await sender.Client.CallAsync(P + "add_campaign_recipients", new { campaign, recipients = new[] { "255757800002", "255757800003" } })).EnsureOk().Message!;
        Assert.Equal(1, added["added"]!.GetValue<int>());
        Assert.Equal(1, added["duplicates"]!.GetValue<int>());

        var rows = (await sender.Client.CallAsync(P + "campaign_recipients", new { campaign, limit = 20 })).EnsureOk().Message!["data"]!.AsArray()
            .Select(r => r!).ToList();
        Assert.Equal(["pending", "pending", "duplicate", "invalid", "skipped", "duplicate", "pending"], rows.Select(r => r["state"]!.GetValue<string>()));
        Assert.Equal("0757 800002", rows[1]["input"]!.GetValue<string>());
        Assert.Equal("255757800002", rows[1]["number"]!.GetValue<string>());
        Assert.Equal("Baraka", rows[1]["variables"]!["name"]!.GetValue<string>());
        Assert.Null(rows[2]["variables"]);
        Assert.Null(rows[3]["number"]);
        Assert.Contains("letters", rows[3]["error"]!.GetValue<string>());
        Assert.Equal("opted out", rows[4]["error"]!.GetValue<string>());
        Assert.All(rows, r => Assert.Equal(0, r["attempts"]!.GetValue<int>()));
        Assert.All(rows, r => Assert.InRange(DateTimeOffset.Parse(r["updated_at"]!.GetValue<string>()), before, DateTimeOffset.UtcNow.AddSeconds(5)));

        (await sender.Client.CallAsync(P + "resume_campaign", new { campaign })).EnsureOk();
        (await sender.Client.CallAsync(P + "pause_campaign", new { campaign })).EnsureOk();
        (await sender.Client.CallAsync(P + "resume_campaign", new { campaign })).EnsureOk();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode status;
        while ((status = (await sender.Client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!)["status"]!.GetValue<string>() != "completed")
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"campaign never completed: {status.ToJsonString()} {(await sender.Client.CallAsync(P + "campaign_recipients", new { campaign })).Body}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Equal(2, status["sent"]!.GetValue<int>());
        Assert.Equal(1, status["failed"]!.GetValue<int>());
        var messages = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { direction = "outbound" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Contains(messages, m => m!["body"]!.GetValue<string>() == "Habari Baraka" && m["to"]!.GetValue<string>() == "255757800002");

        (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = sender.InstanceId, to_number = "255757800004", message = "not part of it" })).EnsureOk();
        var ofCampaign = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { campaign = campaign.ToLowerInvariant() })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal(2, ofCampaign.Count);
        Assert.All(ofCampaign, m => Assert.Equal(campaign, m!["campaign"]!.GetValue<string>()));
        var all = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { direction = "outbound" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Null(all.Single(m => m!["to"]!.GetValue<string>() == "255757800004")!["campaign"]);
        Assert.Empty((await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { campaign = "WAP-CAM-9999" })).EnsureOk().Message!["data"]!.AsArray());

        // The dashboard's free-text search ignores case on both providers.
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        var customerId = await db.Customers.Where(c => c.Code == sender.Customer.Code).Select(c => c.Id).SingleAsync(TestContext.Current.CancellationToken);
        var found = await app.Services.GetRequiredService<MessageLog>().ListAsync(customerId,
            new MessageFilter(null, null, null, null, null, null, null, Search: "HABARI baraka"), new Paging(50, 0), TestContext.Current.CancellationToken);
        Assert.Equal("255757800002", Assert.Single(found.Data).To);
    }
}

public sealed class SqliteCampaignStorageTests(SqliteCampaignApp app) : CampaignStorageTests(app), IClassFixture<SqliteCampaignApp>;

public sealed class PostgresCampaignStorageTests(PostgresCampaignApp app) : CampaignStorageTests(app), IClassFixture<PostgresCampaignApp>;
