using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>Issue 13 item 12: a campaign stored with an absurd spacing (accepted before throttles were range-checked) must not crash its runner.</summary>
public sealed class CampaignSpacingOverflowTests(SqliteCampaignApp app) : IClassFixture<SqliteCampaignApp>
{
    [Fact]
    public async Task A_stored_spacing_of_1e308_seconds_waits_a_day_instead_of_overflowing()
    {
        var sender = await app.CreateConnectedAsync();
        var code = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hi", recipients = new[] { "255757111111", "255757222222" },
            scheduled_at = DateTimeOffset.UtcNow.AddDays(30),
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            await db.Campaigns.Where(c => c.Code == code).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.MinDelaySeconds, 1e308)
                .SetProperty(c => c.MaxDelaySeconds, 1e308)
                .SetProperty(c => c.State, CampaignState.Running)
                .SetProperty(c => c.NextSendAt, DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
        }
        await using var read = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var id = await read.Campaigns.Where(c => c.Code == code).Select(c => c.Id).SingleAsync(TestContext.Current.CancellationToken);

        await app.Services.GetRequiredService<CampaignRunner>().RunAsync(id, TestContext.Current.CancellationToken);

        var status = (await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign = code })).EnsureOk().Message!;
        Assert.Equal(1, status["pending"]!.GetValue<int>());
        var next = status["next_send_at"]!.GetValue<DateTimeOffset>();
        Assert.InRange(next, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddDays(1).AddMinutes(1));
    }
}
