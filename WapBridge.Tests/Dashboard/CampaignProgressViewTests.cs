using Bunit;
using MudBlazor.Services;
using WapBridge.Core.Campaigns;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Tests.Dashboard;

/// <summary>The progress bar and counters of one campaign.</summary>
public sealed class CampaignProgressViewTests : IAsyncDisposable
{
    private readonly BunitContext ctx = new();

    public CampaignProgressViewTests()
    {
        ctx.Services.AddMudServices();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public ValueTask DisposeAsync() => ctx.DisposeAsync();

    public static CampaignStatus Status(CampaignState state = CampaignState.Running, int total = 10, int pending = 6, int sent = 4, int delivered = 3, int read = 1,
        int failed = 0, int invalid = 2, int duplicates = 1, int skipped = 0, double progress = 40, int cancelled = 0) =>
        new("WAP-CAM-0007", "Promo", "WAP-INS-0001", state, total, pending, sent, delivered, read, failed, invalid, duplicates, skipped, cancelled, progress,
            DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, null, null, DateTimeOffset.UtcNow.AddSeconds(5), 120);

    [Fact]
    public void Renders_every_counter_and_the_percentage()
    {
        var cut = ctx.Render<CampaignProgressView>(p => p.Add(c => c.Status, Status(progress: 42.5)));

        Assert.Equal("42.5 %", cut.Find("[data-testid=progress-percent]").TextContent.Trim());
        Assert.Equal("42.5", cut.Find("[data-testid=campaign-progress]").GetAttribute("data-progress"));
        var expected = new Dictionary<string, int>
        {
            ["sent"] = 4, ["delivered"] = 3, ["read"] = 1, ["failed"] = 0, ["invalid"] = 2, ["duplicates"] = 1, ["skipped"] = 0, ["pending"] = 6, ["total"] = 10,
        };
        foreach (var (key, value) in expected)
            Assert.Equal(value.ToString(), cut.Find($"[data-testid=count-{key}]").GetAttribute("data-value"));
        Assert.Contains("Sent 4", cut.Find("[data-testid=count-sent]").TextContent.Replace("\n", " ").Trim());
        Assert.Equal("42.5", cut.Find(".mud-progress-linear").GetAttribute("aria-valuenow"));
    }

    [Fact]
    public void Compact_form_hides_zero_counters_but_keeps_sent_and_pending_and_follows_new_status()
    {
        var cut = ctx.Render<CampaignProgressView>(p => p.Add(c => c.Status, Status(sent: 0, delivered: 0, read: 0, invalid: 0, duplicates: 0, progress: 0))
            .Add(c => c.HideZero, true));
        Assert.Equal(["count-sent", "count-pending", "count-total"], cut.FindAll("[data-testid^=count-]").Select(e => e.GetAttribute("data-testid")));
        Assert.Equal("0 %", cut.Find("[data-testid=progress-percent]").TextContent.Trim());

        cut.Render(p => p.Add(c => c.Status, Status(CampaignState.Completed, pending: 0, sent: 8, delivered: 8, read: 0, failed: 2, invalid: 0, duplicates: 0, progress: 100)));
        Assert.Equal("100 %", cut.Find("[data-testid=progress-percent]").TextContent.Trim());
        Assert.Equal("8", cut.Find("[data-testid=count-sent]").GetAttribute("data-value"));
        Assert.Equal("2", cut.Find("[data-testid=count-failed]").GetAttribute("data-value"));
    }
}
