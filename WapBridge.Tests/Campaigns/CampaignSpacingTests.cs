using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>
/// A throttled campaign's spacing holds whoever runs it: a second job for the same campaign (queued twice, or by the
/// recovery sweep while the first job was slow to start) waits for the next send time the first runner stored.
/// </summary>
public abstract class CampaignSpacingTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.campaigns.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<Campaign> RowAsync(string code)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        return await db.Campaigns.AsNoTracking().SingleAsync(c => c.Code == code, Ct);
    }

    private static async Task<JsonNode> StatusAsync(HttpClient client, string campaign) =>
        (await client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!;

    [Fact]
    public async Task A_second_job_for_a_throttled_campaign_waits_for_the_stored_next_send_instead_of_sending_at_once()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "x", recipients = new[] { "255757557001", "255757557002", "255757557003" },
            throttle = new { min_delay_seconds = 60, max_delay_seconds = 60 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        // The first runner sent one and stored its next send a minute ahead, then let the campaign go.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Campaign row;
        while (!((row = await RowAsync(campaign)) is { RunnerLeaseUntil: null, NextSendAt: { } next } && next > DateTimeOffset.UtcNow.AddSeconds(30)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the first send never happened");
            await Task.Delay(50, Ct);
        }

        app.Services.GetRequiredService<ICampaignScheduler>().RunNow(row.Id);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);

        var status = await StatusAsync(sender.Client, campaign);
        Assert.Equal(2, status["pending"]!.GetValue<int>());
        Assert.Equal(row.NextSendAt, (await RowAsync(campaign)).NextSendAt);
    }
}

public sealed class SqliteCampaignSpacingTests(SqliteMessagingApp app) : CampaignSpacingTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresCampaignSpacingTests(PostgresMessagingApp app) : CampaignSpacingTests(app), IClassFixture<PostgresMessagingApp>;
