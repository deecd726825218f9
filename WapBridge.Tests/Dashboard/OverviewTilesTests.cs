using Bunit;
using MudBlazor.Services;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Instances;
using WapBridge.Core.Overview;
using WapBridge.Web.Components.Pages.Overview;

namespace WapBridge.Tests.Dashboard;

/// <summary>The Overview's totals, instance tiles and campaign list with known figures.</summary>
public sealed class OverviewTilesTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 14, 25, 0, TimeSpan.Zero);

    private readonly BunitContext ctx = new();

    public OverviewTilesTests()
    {
        ctx.Services.AddMudServices();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public ValueTask DisposeAsync() => ctx.DisposeAsync();

    private static string Value(IRenderedComponent<OverviewTotals> cut, string key) =>
        cut.Find($"[data-testid=total-{key}] [data-testid=total-value]").TextContent;

    private static string Note(IRenderedComponent<OverviewTotals> cut, string key) =>
        cut.Find($"[data-testid=total-{key}] [data-testid=total-note]").TextContent;

    [Fact]
    public void Totals_show_the_rates_of_what_was_sent_and_the_webhook_backlog()
    {
        var cut = ctx.Render<OverviewTotals>(p => p
            .Add(c => c.Rates, new MessageRates(Outbound: 10, Sent: 8, Delivered: 6, Read: 3, Failed: 2))
            .Add(c => c.Webhooks, new WebhookFigures(Backlog: 4, OldestPendingAt: Now.AddMinutes(-12), Retrying: 1, Dead: 2))
            .Add(c => c.Inbound, 1234)
            .Add(c => c.Now, Now));

        Assert.Equal("8", Value(cut, "sent"));
        Assert.Equal("of 10 accepted", Note(cut, "sent"));
        Assert.Equal("75 %", Value(cut, "delivery-rate"));
        Assert.Equal("6 delivered of 8 sent", Note(cut, "delivery-rate"));
        Assert.Equal("37.5 %", Value(cut, "read-rate"));
        Assert.Equal("2", Value(cut, "failed"));
        Assert.Equal("1,234", Value(cut, "inbound"));
        Assert.Equal("4", Value(cut, "webhook-backlog"));
        Assert.Equal("oldest waiting 12 min", Note(cut, "webhook-backlog"));
        Assert.Equal("1", Value(cut, "webhook-retrying"));
        Assert.Equal("2", Value(cut, "webhook-dead"));
    }

    [Fact]
    public void Totals_without_anything_sent_show_no_rate_rather_than_zero()
    {
        var cut = ctx.Render<OverviewTotals>(p => p
            .Add(c => c.Rates, new MessageRates(0, 0, 0, 0, 0))
            .Add(c => c.Webhooks, new WebhookFigures(0, null, 0, 0))
            .Add(c => c.Now, Now));

        Assert.Equal("—", Value(cut, "delivery-rate"));
        Assert.Equal("—", Value(cut, "read-rate"));
        Assert.Equal("nothing waiting", Note(cut, "webhook-backlog"));
        Assert.Equal("none", Note(cut, "failed"));
    }

    [Fact]
    public void Each_instance_has_a_tile_with_its_state_queue_last_message_and_health()
    {
        var cut = ctx.Render<InstanceTiles>(p => p
            .Add(c => c.Tiles, [
                new InstanceTile("INST-01-0000001", "Shop phone", "255700111222", InstanceState.Connected, 3, Now.AddMinutes(-5), "watch", 72),
                new InstanceTile("INST-01-0000002", "Front desk", null, InstanceState.Qr, 0, null, null, null),
            ])
            .Add(c => c.Now, Now));

        var tiles = cut.FindAll("[data-testid=instance-tile]");
        Assert.Equal(2, tiles.Count);
        var shop = cut.Find("[data-testid=instance-tile][data-instance='INST-01-0000001']");
        Assert.Equal("connected", shop.GetAttribute("data-state"));
        Assert.Equal("connected", shop.QuerySelector("[data-testid=instance-status]")!.GetAttribute("data-status"));
        Assert.Contains("Shop phone", shop.TextContent);
        Assert.Contains("+255700111222", shop.TextContent);
        Assert.Equal("3", shop.QuerySelector("[data-testid=tile-queue]")!.TextContent);
        Assert.Equal("5 min ago", shop.QuerySelector("[data-testid=tile-last-activity]")!.TextContent);
        Assert.Equal("watch (72)", shop.QuerySelector("[data-testid=tile-health]")!.TextContent);
        var desk = cut.Find("[data-testid=instance-tile][data-instance='INST-01-0000002']");
        Assert.Equal("qr", desk.GetAttribute("data-state"));
        Assert.Equal("none yet", desk.QuerySelector("[data-testid=tile-last-activity]")!.TextContent);
        Assert.Equal("not judged yet", desk.QuerySelector("[data-testid=tile-health]")!.TextContent);

        cut.Render(p => p.Add(c => c.Tiles, []));
        Assert.NotNull(cut.Find("[data-testid=no-instance-tiles]"));
    }

    [Fact]
    public void Active_campaigns_are_listed_with_their_progress_and_a_link()
    {
        var running = new CampaignStatus("WAP-CAM-0002", "Spring promo", "INST-01-0000001", CampaignState.Running, 10, 6, 2, 1, 1, 0, 0, 0, 0, 0, 40,
            Now.AddHours(-1), null, Now.AddHours(-1), null, null, Now.AddSeconds(30), 120);
        var paused = running with { Campaign = "WAP-CAM-0003", CampaignName = "Autumn", Status = CampaignState.Paused, Progress = 12.5 };

        var cut = ctx.Render<CampaignProgressList>(p => p.Add(c => c.Campaigns, [running, paused]));

        var items = cut.FindAll("[data-testid=active-campaign]");
        Assert.Equal(["WAP-CAM-0002", "WAP-CAM-0003"], items.Select(i => i.GetAttribute("data-campaign")));
        Assert.Equal("/campaigns?campaign=WAP-CAM-0002", items[0].QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("running", items[0].QuerySelector("[data-testid=campaign-status]")!.GetAttribute("data-status"));
        Assert.Equal("40", items[0].QuerySelector("[data-testid=campaign-progress]")!.GetAttribute("data-progress"));
        Assert.Equal("12.5", items[1].QuerySelector("[data-testid=campaign-progress]")!.GetAttribute("data-progress"));
        Assert.Equal("paused", items[1].QuerySelector("[data-testid=campaign-status]")!.GetAttribute("data-status"));

        cut.Render(p => p.Add(c => c.Campaigns, []));
        Assert.NotNull(cut.Find("[data-testid=no-active-campaigns]"));
    }
}
