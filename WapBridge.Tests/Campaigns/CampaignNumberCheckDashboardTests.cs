using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Dashboard;
using WapBridge.Web.Components.Pages.Campaigns;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>The dashboard's side of "check numbers first": the form's switch, the detail's note, the reason in the table and export.</summary>
public sealed class CampaignNumberCheckDashboardTests : IAsyncLifetime
{
    private readonly RecordingCampaignScheduler scheduler = new();
    private readonly InstanceDashboardHarness h;
    private Customer customer = default!;
    private InstanceDetails instance = default!;

    // With the number-check cache the outbox and the campaigns' check share.
    public CampaignNumberCheckDashboardTests() =>
        h = CampaignDashboardHarness.Create(scheduler, services => services.TryAddSingleton<NumberCheckCache>());

    private CampaignService Campaigns => h.Ctx.Services.GetRequiredService<CampaignService>();

    public async ValueTask InitializeAsync()
    {
        customer = await h.StartAsCustomerAsync("Promo Ltd");
        instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private IRenderedComponent<ContainerFragment> RenderForm(Action<CampaignStatus> onCreated) => h.Render(b =>
    {
        b.OpenComponent<NewCampaignForm>(10);
        b.AddAttribute(11, nameof(NewCampaignForm.CustomerId), customer.Id);
        b.AddAttribute(12, nameof(NewCampaignForm.Instances), (IReadOnlyList<InstanceDetails>)[instance]);
        b.AddAttribute(13, nameof(NewCampaignForm.OnCreated),
            EventCallback.Factory.Create<(CampaignStatus Status, RecipientsAdded Added)>(this, c => onCreated(c.Status)));
        b.CloseComponent();
    });

    private static void FillIn(IRenderedComponent<ContainerFragment> cut, string name)
    {
        cut.Find("[data-testid=campaign-name] input").Input(name);
        cut.Find("[data-testid=campaign-message] textarea").Input("Hello");
        cut.Find("[data-testid=campaign-numbers] textarea").Input("0755000001\n0755009999");
        cut.WaitForAssertion(() => Assert.Equal("2", cut.Find("[data-testid=draft-ready]").GetAttribute("data-value")));
    }

    [Fact]
    public async Task The_switch_is_off_by_default_says_why_and_when_on_the_campaign_checks_numbers_first()
    {
        CampaignStatus? created = null;
        var cut = RenderForm(s => created = s);

        var box = cut.Find("[data-testid=check-numbers-first] input");
        Assert.False(box.HasAttribute("checked"));
        Assert.Contains("Check numbers first", cut.Find("[data-testid=check-numbers-first]").TextContent);
        var help = cut.Find("[data-testid=check-numbers-help]").TextContent;
        Assert.Contains("Off by default", help);
        Assert.Contains("ban", help);
        Assert.Contains("a few at a time", help);

        // Left alone: the campaign sends without asking.
        FillIn(cut, "Plain");
        cut.ClickOn("[data-testid=start-campaign]");
        cut.WaitForAssertion(() => Assert.NotNull(created));
        Assert.False(created!.CheckNumbersFirst);

        // Switched on, the same list starts a campaign that checks first.
        created = null;
        cut.Find("[data-testid=campaign-name] input").Input("Checked");
        cut.Find("[data-testid=check-numbers-first] input").Change(true);
        cut.ClickOn("[data-testid=start-campaign]");
        cut.WaitForAssertion(() => Assert.NotNull(created));
        Assert.True(created!.CheckNumbersFirst);
        Assert.True((await Campaigns.StatusAsync(customer.Id, created.Campaign)).CheckNumbersFirst);
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        Assert.Equal(["Checked"], await db.Campaigns.Where(c => c.CheckNumbersFirst).Select(c => c.Name).ToListAsync());
    }

    [Fact]
    public async Task The_detail_says_numbers_are_checked_and_shows_and_exports_not_on_whatsapp()
    {
        var (status, _) = await Campaigns.CreateAsync(customer.Id, new NewCampaign(instance.InstanceId, "Checked", "Hi",
            new System.Text.Json.Nodes.JsonArray("+255755000001", "+255755009999"), null, null, null, null, null, null, CheckNumbersFirst: true));
        // What the runner's check does to a number WhatsApp does not know.
        var pending = await Campaigns.RecipientsAsync(customer.Id, status.Campaign, "pending", Paging.From(10, 0));
        await using (var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var campaignId = await db.Campaigns.Where(c => c.Code == status.Campaign).Select(c => c.Id).SingleAsync();
            var row = new CampaignRecipient { Id = pending.Data.Single(r => r.Number == "255755009999").Id, CampaignId = campaignId, RawInput = "", State = RecipientState.Pending };
            Assert.True(await CampaignProgress.AdvanceAsync(db, row, RecipientState.Failed, CampaignNumberCheck.NotOnWhatsAppReason, DateTimeOffset.UtcNow, CancellationToken.None));
        }

        var cut = h.Render<CampaignsPage>();
        var listRow = $"[data-testid=campaign-row][data-campaign='{status.Campaign}']";
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find($"{listRow} [data-testid=count-failed]").GetAttribute("data-value")));
        cut.Find(listRow).Click();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=recipient-state]").Count));
        Assert.Contains("not_on_whatsapp", cut.Find("[data-testid=detail-check-numbers]").TextContent);
        Assert.StartsWith("not_on_whatsapp", cut.Find("[data-testid=recipient-error]").TextContent, StringComparison.Ordinal);

        cut.ClickOn("[data-testid=export-csv]");
        var csv = (string)h.Ctx.JSInterop.Invocations.Last(i => i.Identifier == "wapbridge.download").Arguments[1]!;
        Assert.Contains(csv.Split("\r\n"), l => l.StartsWith("+255755009999,+255755009999,failed,not_on_whatsapp", StringComparison.Ordinal));
    }
}
