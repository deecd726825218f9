using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Persistence;

/// <summary>
/// Rows written before the state enums (plain strings, here by SQL) read back as the enums, the enums write the same
/// strings, and the API answers and filters on those strings as it did.
/// </summary>
public abstract class StoredStateTests(WapBridgeApp app)
{
    private const string Whatsapp = "wap_bridge.api.whatsapp.";
    private const string Campaigns = "wap_bridge.api.campaigns.";

    private async Task<T> InDbAsync<T>(Func<WapBridgeDbContext, Task<T>> work)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await work(db);
    }

    [Fact]
    public async Task Old_string_rows_read_back_as_states_and_the_api_answers_the_same_strings()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var client = sender.Client;

        // What the enums write is the old string.
        Assert.Equal("connected", (await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = sender.InstanceId })).EnsureOk()
            .Message!["status"]!.GetValue<string>());
        Assert.Equal("connected", await InDbAsync(db => db.Database
            .SqlQuery<string>($"SELECT \"State\" AS \"Value\" FROM \"Instances\" WHERE \"Code\" = {sender.InstanceId}").SingleAsync()));
        var history = await InDbAsync(db => db.Database.SqlQuery<string>(
            $"SELECT c.\"State\" AS \"Value\" FROM \"InstanceStateChanges\" c JOIN \"Instances\" i ON i.\"Id\" = c.\"InstanceId\" WHERE i.\"Code\" = {sender.InstanceId}").ToListAsync());
        Assert.Contains("qr", history);
        Assert.Contains("connected", history);

        var id = (await client.CallAsync(Whatsapp + "send_api_message", new { instance_id = sender.InstanceId, to_number = "255757000101", message = "hi", wait = 0 }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var settled = await client.WaitForMessageAsync(id, m => m["status"]!.GetValue<string>() is "sent" or "delivered" or "read");
        var stored = await InDbAsync(db => db.Database.SqlQuery<string>($"SELECT \"Status\" AS \"Value\" FROM \"Messages\" WHERE \"SerializedId\" = {id}").SingleAsync());
        Assert.Contains(stored, new[] { "sent", "delivered", "read" });

        var campaignCreated = (await client.CallAsync(Campaigns + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, campaign_name = "Old rows", message = "Hello", recipients = new[] { "255757000102" },
            scheduled_at = DateTimeOffset.UtcNow.AddDays(1).ToString("O"),
        })).EnsureOk().Message!;
        Assert.Equal("scheduled", campaignCreated["status"]!.GetValue<string>());
        var campaign = campaignCreated["campaign"]!.GetValue<string>();
        Assert.Equal("scheduled", await InDbAsync(db => db.Database.SqlQuery<string>($"SELECT \"State\" AS \"Value\" FROM \"Campaigns\" WHERE \"Code\" = {campaign}").SingleAsync()));

        // Rows as an older release left them: strings, written without the converter.
        await InDbAsync(async db =>
        {
            await db.Database.ExecuteSqlAsync($"UPDATE \"Messages\" SET \"Status\" = {"played"} WHERE \"SerializedId\" = {id}");
            await db.Database.ExecuteSqlAsync($"UPDATE \"Campaigns\" SET \"State\" = {"paused"} WHERE \"Code\" = {campaign}");
            return await db.Database.ExecuteSqlAsync(
                $"UPDATE \"CampaignRecipients\" SET \"State\" = {"skipped"} WHERE \"CampaignId\" = (SELECT \"Id\" FROM \"Campaigns\" WHERE \"Code\" = {campaign})");
        });

        Assert.Equal(MessageStatus.Played, await InDbAsync(db => db.Messages.Where(m => m.SerializedId == id).Select(m => m.Status).SingleAsync()));
        Assert.Equal(CampaignState.Paused, await InDbAsync(db => db.Campaigns.Where(c => c.Code == campaign).Select(c => c.State).SingleAsync()));
        Assert.Equal(RecipientState.Skipped, await InDbAsync(db => db.CampaignRecipients
            .Where(r => db.Campaigns.Any(c => c.Id == r.CampaignId && c.Code == campaign)).Select(r => r.State).SingleAsync()));

        Assert.Equal("played", (await client.CallAsync(Whatsapp + "message_status", new { id })).EnsureOk().Message!["status"]!.GetValue<string>());
        Assert.Equal("paused", (await client.CallAsync(Campaigns + "campaign_status", new { campaign })).EnsureOk().Message!["status"]!.GetValue<string>());
        var recipients = (await client.CallAsync(Campaigns + "campaign_recipients", new { campaign, state = "skipped" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal("skipped", Assert.Single(recipients)!["state"]!.GetValue<string>());

        // Filters read the strings as before: any case, and an unknown value matches nothing (no error).
        Assert.Contains(id, await MessageIdsAsync(client, sender.InstanceId, "played"));
        Assert.Contains(id, await MessageIdsAsync(client, sender.InstanceId, " PLAYED "));
        Assert.Empty(await MessageIdsAsync(client, sender.InstanceId, "bogus"));
        Assert.Empty(await MessageIdsAsync(client, sender.InstanceId, settled["status"]!.GetValue<string>()));
        Assert.Equal(1, (await client.CallAsync(Campaigns + "list_campaigns", new { status = "Paused" })).EnsureOk().Message!["total"]!.GetValue<int>());
        Assert.Equal(0, (await client.CallAsync(Campaigns + "list_campaigns", new { status = "bogus" })).EnsureOk().Message!["total"]!.GetValue<int>());
        Assert.Equal(0, (await client.CallAsync(Campaigns + "campaign_recipients", new { campaign, state = "bogus" })).EnsureOk().Message!["total"]!.GetValue<int>());
        var deliveries = await client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries", new { state = "bogus" });
        Assert.Equal(417, deliveries.Status);
        Assert.Contains("pending, delivered or dead", deliveries.Body!["error"]!["message"]!.GetValue<string>());
    }

    private static async Task<List<string>> MessageIdsAsync(HttpClient client, string instanceId, string status) =>
        (await client.CallAsync(Whatsapp + "list_messages", new { instance_id = instanceId, status })).EnsureOk().Message!["data"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<string>()).ToList();
}

public sealed class SqliteStoredStateTests(SqliteApp app) : StoredStateTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresStoredStateTests(PostgresApp app) : StoredStateTests(app), IClassFixture<PostgresApp>;
