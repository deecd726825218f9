using System.Text.Json.Nodes;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Web.Components.Pages.Campaigns;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The /campaigns page and its new-campaign form, on the real campaign service with a recording scheduler.</summary>
public sealed class CampaignsPageTests : IAsyncLifetime
{
    private readonly RecordingCampaignScheduler scheduler = new();
    private readonly InstanceDashboardHarness h;
    private Customer customer = default!;
    private InstanceDetails instance = default!;

    public CampaignsPageTests() => h = CampaignDashboardHarness.Create(scheduler);

    private CampaignService Campaigns => h.Ctx.Services.GetRequiredService<CampaignService>();

    public async ValueTask InitializeAsync()
    {
        customer = await h.StartAsCustomerAsync("Promo Ltd");
        instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private IRenderedComponent<ContainerFragment> RenderPage() => h.Render<CampaignsPage>();

    private IRenderedComponent<ContainerFragment> RenderForm(EventCallback<(CampaignStatus, RecipientsAdded)> onCreated = default) => h.Render(b =>
    {
        b.OpenComponent<NewCampaignForm>(10);
        b.AddAttribute(11, nameof(NewCampaignForm.CustomerId), customer.Id);
        b.AddAttribute(12, nameof(NewCampaignForm.Instances), (IReadOnlyList<InstanceDetails>)[instance]);
        b.AddAttribute(13, nameof(NewCampaignForm.OnCreated), onCreated);
        b.CloseComponent();
    });

    [Fact]
    public void Create_flow_previews_rendered_messages_lists_invalid_rows_and_starts_the_campaign()
    {
        (CampaignStatus Status, RecipientsAdded Added)? created = null;
        var cut = RenderForm(EventCallback.Factory.Create<(CampaignStatus, RecipientsAdded)>(this, c => created = c));

        cut.Find("[data-testid=campaign-name] input").Input("March promo");
        cut.Find("[data-testid=campaign-message] textarea").Input("Hi {{name}}, your code is {{code}}");

        const string csv = "Phone,Name,Code\n" +
                           "0755000001,\"Asha, M.\",A1\n" +
                           "+255 755 000 002,Juma,B2\n" +
                           "not a number,Neema,C3\n" +
                           "0755000004,Baraka,\n" +
                           "0755000005,Zawadi,E5\n" +
                           "0755000006,Rehema,F6\n";
        cut.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(csv, "list.csv"));

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=preview-item]").Count));
        Assert.Contains("list.csv", cut.Find("[data-testid=csv-file-name]").TextContent);
        Assert.Equal(["Hi Asha, M., your code is A1", "Hi Juma, your code is B2", "Hi Zawadi, your code is E5"],
            cut.FindAll("[data-testid=preview-text]").Select(e => e.TextContent));
        Assert.Equal("To +255755000001", cut.Find("[data-testid=preview-number]").TextContent.Trim());
        Assert.Equal("4", cut.Find("[data-testid=draft-ready]").GetAttribute("data-value"));
        Assert.Equal("1", cut.Find("[data-testid=draft-invalid]").GetAttribute("data-value"));
        Assert.Equal("1", cut.Find("[data-testid=draft-missing]").GetAttribute("data-value"));

        var problems = cut.FindAll("[data-testid=problem-row]");
        Assert.Equal(["invalid", "missing"], problems.Select(r => r.GetAttribute("data-kind")));
        Assert.Contains("not a number", problems[0].TextContent);
        Assert.Contains("letters", problems[0].TextContent);
        Assert.Contains("{{code}}", problems[1].TextContent);
        Assert.StartsWith("4", problems[0].QuerySelector("td")!.TextContent.Trim()); // line 4 of the file

        // The number column can be remapped: with the name column as numbers, nothing is sendable.
        var select = cut.FindComponent<MudSelect<int>>();
        cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(1));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=preview-item]")));
        Assert.True(cut.Find("[data-testid=start-campaign]").HasAttribute("disabled"));
        cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(0));
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=preview-item]").Count));

        cut.ClickOn("[data-testid=start-campaign]");
        cut.WaitForAssertion(() => Assert.NotNull(created));
        var (status, added) = created!.Value;
        Assert.Equal("March promo", status.CampaignName);
        Assert.Equal(CampaignState.Running, status.Status);
        // The row missing {{code}} was left out; the invalid one is counted by the campaign.
        Assert.Equal(4, added.Added);
        Assert.Single(added.Invalid);
        Assert.Equal(4, status.Total);
        Assert.Equal(1, status.Invalid);
        Assert.Contains(scheduler.Calls, c => c.At is null);
    }

    [Fact]
    public async Task Pasted_numbers_and_server_errors_are_shown_next_to_their_field()
    {
        var cut = RenderForm();
        cut.Find("[data-testid=campaign-message] textarea").Input("Hello {{phone_number}}");
        cut.Find("[data-testid=campaign-numbers] textarea").Input("0755000001\n\nxyz\n0755000001");
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=draft-ready]").GetAttribute("data-value")));
        // The preview follows the draft in a render of its own.
        cut.WaitForAssertion(() => Assert.Equal("Hello 255755000001", cut.Find("[data-testid=preview-text]").TextContent));
        Assert.Equal(["invalid", "duplicate"], cut.FindAll("[data-testid=problem-row]").Select(r => r.GetAttribute("data-kind")));

        // A bad throttle comes back from the service and opens the pace panel at its field.
        cut.Find("[data-testid=throttle-min] input").Input("50");
        cut.ClickOn("[data-testid=start-campaign]");
        cut.WaitForAssertion(() => Assert.Contains("Max delay must be at least Min delay", cut.Find("[data-testid=throttle-max]").TextContent));
        Assert.Empty(scheduler.Calls);

        // Fixed, with caps and active hours: the campaign is created with that throttle.
        cut.Find("[data-testid=throttle-min] input").Input("1");
        cut.Find("[data-testid=throttle-max] input").Input("2");
        cut.Find("[data-testid=throttle-hourly] input").Input("100");
        cut.Find("[data-testid=throttle-daily] input").Input("500");
        cut.Find("[data-testid=active-hours-enabled] input").Change(true);
        cut.WaitForAssertion(() => cut.Find("[data-testid=active-start] input"));
        cut.ClickOn("[data-testid=start-campaign]");
        cut.WaitForAssertion(() => Assert.Single(scheduler.Calls));
        var campaign = Assert.Single((await Campaigns.ListAsync(customer.Id, null, Paging.From(10, 0))).Data);
        Assert.Equal(1, campaign.Total);
        Assert.Equal(1, campaign.Invalid);
        Assert.Equal(1, campaign.Duplicates);
    }

    [Fact]
    public async Task An_unthrottled_campaign_on_a_real_number_is_refused_under_the_throttle_fields_in_the_form_words()
    {
        var node = h.Ctx.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NodeOptions>>().Value.Id;
        var code = Instance.FormatCode(node, 9000011);
        await using (var db = await h.Ctx.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<WapBridge.Core.Persistence.WapBridgeDbContext>>().CreateDbContextAsync())
        {
            db.Instances.Add(new Instance { Code = code, CustomerId = customer.Id, Name = "Real phone", Engine = "baileys", NodeId = node, SessionNode = node,
                State = InstanceState.Connected, PhoneNumber = "255700000321" });
            await db.SaveChangesAsync();
        }
        var real = await h.Instances.GetAsync(customer.Id, code);
        var cut = h.Render(b =>
        {
            b.OpenComponent<NewCampaignForm>(10);
            b.AddAttribute(11, nameof(NewCampaignForm.CustomerId), customer.Id);
            b.AddAttribute(12, nameof(NewCampaignForm.Instances), (IReadOnlyList<InstanceDetails>)[real]);
            b.CloseComponent();
        });
        cut.Find("[data-testid=campaign-message] textarea").Input("Hello");
        cut.Find("[data-testid=campaign-numbers] textarea").Input("+255755000001");
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=draft-ready]").GetAttribute("data-value")));
        cut.Find("[data-testid=throttle-min] input").Input("0");
        cut.Find("[data-testid=throttle-max] input").Input("0");
        cut.ClickOn("[data-testid=start-campaign]");

        cut.WaitForAssertion(() => Assert.Equal(NewCampaignForm.UnthrottledRefused, cut.Find("[data-testid=throttle-error]").TextContent.Trim()));
        Assert.Contains("Max delay", NewCampaignForm.UnthrottledRefused);
        Assert.Empty(cut.FindAll("[data-testid=create-campaign-error]"));
        Assert.Empty(scheduler.Calls);
    }

    private async Task<CampaignStatus> CreateCampaignAsync(string name)
    {
        var recipients = new JsonArray("+255755000001", new JsonObject { ["phone_number"] = "0755000002", ["name"] = "Asha" }, "bad");
        var (status, _) = await Campaigns.CreateAsync(customer.Id, new NewCampaign(instance.InstanceId, name, "Hi", recipients, null, null, null, null, null,
            JsonNode.Parse("""{"min_delay_seconds": 0, "max_delay_seconds": 0}""")!.AsObject()));
        return status;
    }

    [Fact]
    public async Task List_shows_progress_and_pause_resume_and_cancel_call_through()
    {
        var created = await CreateCampaignAsync("Weekend sale");
        var cut = RenderPage();
        var row = $"[data-testid=campaign-row][data-campaign='{created.Campaign}']";
        cut.WaitForAssertion(() => cut.Find(row));
        Assert.Equal("Weekend sale", cut.Find($"{row} [data-testid=campaign-name]").TextContent);
        Assert.Equal("running", cut.Find($"{row} [data-testid=campaign-status]").GetAttribute("data-status"));
        Assert.Equal("2", cut.Find($"{row} [data-testid=count-pending]").GetAttribute("data-value"));
        Assert.Equal("1", cut.Find($"{row} [data-testid=count-invalid]").GetAttribute("data-value"));
        Assert.Equal("0 %", cut.Find($"{row} [data-testid=progress-percent]").TextContent.Trim());
        var runsBefore = scheduler.Calls.Count;

        cut.Find($"{row} [data-testid=pause-campaign]").Click();
        cut.WaitForAssertion(() => Assert.Equal("paused", cut.Find($"{row} [data-testid=campaign-status]").GetAttribute("data-status")));
        Assert.Equal("paused by the owner", cut.Find($"{row} [data-testid=paused-reason]").TextContent);
        Assert.Equal(CampaignState.Paused, (await Campaigns.StatusAsync(customer.Id, created.Campaign)).Status);
        Assert.Empty(cut.FindAll($"{row} [data-testid=pause-campaign]"));

        cut.Find($"{row} [data-testid=resume-campaign]").Click();
        cut.WaitForAssertion(() => Assert.Equal("running", cut.Find($"{row} [data-testid=campaign-status]").GetAttribute("data-status")));
        Assert.Equal(CampaignState.Running, (await Campaigns.StatusAsync(customer.Id, created.Campaign)).Status);
        Assert.Equal(runsBefore + 1, scheduler.Calls.Count);

        // Cancel asks first; keeping it running changes nothing.
        cut.Find($"{row} [data-testid=cancel-campaign]").Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid=keep-campaign]"));
        cut.ClickOn("[data-testid=keep-campaign]");
        Assert.Equal(CampaignState.Running, (await Campaigns.StatusAsync(customer.Id, created.Campaign)).Status);
        cut.Find($"{row} [data-testid=cancel-campaign]").Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid=confirm-cancel]"));
        cut.ClickOn("[data-testid=confirm-cancel]");
        cut.WaitForAssertion(() => Assert.Equal("cancelled", cut.Find($"{row} [data-testid=campaign-status]").GetAttribute("data-status")));
        Assert.Equal(CampaignState.Cancelled, (await Campaigns.StatusAsync(customer.Id, created.Campaign)).Status);
        Assert.Empty(cut.FindAll($"{row} [data-testid=resume-campaign]"));
    }

    [Fact]
    public async Task Counters_move_without_reload_and_detail_lists_recipients_with_a_state_filter_and_exports_csv()
    {
        var created = await CreateCampaignAsync("Live one");
        var stranger = await h.CreateCustomerAsync("Stranger");
        var strangerInstance = await h.Instances.CreateAsync(stranger.Id, "Theirs", "simulator", null);
        await Campaigns.CreateAsync(stranger.Id, new NewCampaign(strangerInstance.InstanceId, "Not mine", "Hi", new JsonArray("+255755000009"),
            null, null, null, null, null, null));

        var cut = RenderPage();
        var row = $"[data-testid=campaign-row][data-campaign='{created.Campaign}']";
        cut.WaitForAssertion(() => cut.Find(row));
        Assert.Single(cut.FindAll("[data-testid=campaign-row]"));
        Assert.DoesNotContain("Not mine", cut.Markup);

        cut.Find(row).Click();
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=recipient-state]").Count));
        Assert.Equal(["pending", "pending", "invalid"], cut.FindAll("[data-testid=recipient-state]").Select(e => e.GetAttribute("data-state")));
        Assert.Contains("name: Asha", cut.Find("[data-testid=recipients-table]").TextContent);

        // A recipient moves on (as the runner would): the list hears it from the live feed.
        var recipients = await Campaigns.RecipientsAsync(customer.Id, created.Campaign, "pending", Paging.From(10, 0));
        await using (var db = await h.Ctx.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<WapBridge.Core.Persistence.WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var entity = new CampaignRecipient { Id = recipients.Data[0].Id, CampaignId = 0, RawInput = "", State = RecipientState.Pending };
            var campaignId = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
                db.Campaigns.Where(c => c.Code == created.Campaign).Select(c => c.Id));
            entity.CampaignId = campaignId;
            Assert.True(await CampaignProgress.AdvanceAsync(db, entity, RecipientState.Delivered, null, DateTimeOffset.UtcNow, CancellationToken.None));
        }
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find($"{row} [data-testid=count-sent]").GetAttribute("data-value")), TimeSpan.FromSeconds(6));
        Assert.Equal("1", cut.Find($"{row} [data-testid=count-delivered]").GetAttribute("data-value"));
        Assert.Equal("50 %", cut.Find($"{row} [data-testid=progress-percent]").TextContent.Trim());
        cut.WaitForAssertion(() => Assert.Contains("delivered", cut.FindAll("[data-testid=recipient-state]").Select(e => e.GetAttribute("data-state"))),
            TimeSpan.FromSeconds(6));

        // The state filter narrows the table on the server.
        var filter = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "State");
        await cut.InvokeAsync(() => filter.Instance.ValueChanged.InvokeAsync("invalid"));
        cut.WaitForAssertion(() => Assert.Equal(["invalid"], cut.FindAll("[data-testid=recipient-state]").Select(e => e.GetAttribute("data-state"))));
        Assert.Contains("bad", cut.Find("[data-testid=recipients-table]").TextContent);

        // Export: all recipients of the chosen state, handed to the browser as a file.
        await cut.InvokeAsync(() => filter.Instance.ValueChanged.InvokeAsync(""));
        var call = ExportCsv(cut);
        Assert.Equal($"{created.Campaign.ToLowerInvariant()}-recipients.csv", call.Arguments[0]);
        var csv = (string)call.Arguments[1]!;
        var lines = csv.TrimEnd().Split("\r\n");
        Assert.Equal("number,input,state,error,message_id,updated_at", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("+255755000001,+255755000001,delivered,,", lines[1]);
        Assert.StartsWith("+255755000002,0755000002,pending,,", lines[2]);
        Assert.StartsWith(",bad,invalid,", lines[3]);
    }

    [Fact]
    public async Task The_list_reads_on_live_notices_only_and_hears_a_pause_made_elsewhere()
    {
        var created = await CreateCampaignAsync("Quiet one");
        var cut = RenderPage();
        var row = $"[data-testid=campaign-row][data-campaign='{created.Campaign}']";
        cut.WaitForAssertion(() => Assert.Equal("running", cut.Find(row).GetAttribute("data-status")));

        // A change nobody announces is not picked up: no timer reads the list again.
        var factory = h.Ctx.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<WapBridge.Core.Persistence.WapBridgeDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(Xunit.TestContext.Current.CancellationToken))
            await db.Campaigns.Where(c => c.Code == created.Campaign).ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, "Renamed quietly"), Xunit.TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(3), Xunit.TestContext.Current.CancellationToken);
        Assert.Contains("Quiet one", cut.Find(row).TextContent);

        // Paused through the API (another tab, another node): the notice brings the list up to date.
        await Campaigns.PauseAsync(customer.Id, created.Campaign);
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("paused", cut.Find(row).GetAttribute("data-status"));
            Assert.Contains("Renamed quietly", cut.Find(row).TextContent);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Detail_header_pauses_resumes_and_cancels_and_cancelled_recipients_show_in_counters_filter_and_export()
    {
        var created = await CreateCampaignAsync("From the detail");
        var cut = RenderPage();
        var row = $"[data-testid=campaign-row][data-campaign='{created.Campaign}']";
        cut.WaitForAssertion(() => cut.Find(row));
        cut.Find(row).Click();
        const string detail = "[data-testid=campaign-detail]";
        cut.WaitForAssertion(() => cut.Find($"{detail} [data-testid=detail-pause]"));

        cut.Find($"{detail} [data-testid=detail-pause]").Click();
        cut.WaitForAssertion(() => Assert.Equal("paused", cut.Find($"{detail} [data-testid=campaign-status]").GetAttribute("data-status")));
        Assert.Equal(CampaignState.Paused, (await Campaigns.StatusAsync(customer.Id, created.Campaign)).Status);
        Assert.Empty(cut.FindAll($"{detail} [data-testid=detail-pause]"));

        cut.Find($"{detail} [data-testid=detail-resume]").Click();
        cut.WaitForAssertion(() => Assert.Equal("running", cut.Find($"{detail} [data-testid=campaign-status]").GetAttribute("data-status")));

        cut.Find($"{detail} [data-testid=detail-cancel]").Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid=confirm-cancel]"));
        cut.ClickOn("[data-testid=confirm-cancel]");
        cut.WaitForAssertion(() => Assert.Equal("cancelled", cut.Find($"{detail} [data-testid=campaign-status]").GetAttribute("data-status")));
        Assert.Empty(cut.FindAll($"{detail} [data-testid=detail-actions]"));
        Assert.Equal("2", cut.Find($"{detail} [data-testid=count-cancelled]").GetAttribute("data-value"));
        Assert.Equal("0", cut.Find($"{detail} [data-testid=count-pending]").GetAttribute("data-value"));
        Assert.Equal("2", cut.Find($"{row} [data-testid=count-cancelled]").GetAttribute("data-value"));

        var filter = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "State");
        await cut.InvokeAsync(() => filter.Instance.ValueChanged.InvokeAsync(RecipientState.Cancelled.ToWire()));
        cut.WaitForAssertion(() => Assert.Equal(["cancelled", "cancelled"], cut.FindAll("[data-testid=recipient-state]").Select(e => e.GetAttribute("data-state"))));
        var call = ExportCsv(cut);
        Assert.Equal($"{created.Campaign.ToLowerInvariant()}-cancelled-recipients.csv", call.Arguments[0]);
        var lines = ((string)call.Arguments[1]!).TrimEnd().Split("\r\n");
        Assert.Equal(3, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Contains(",cancelled,", l));
    }

    /// <summary>Clicks Export CSV and waits for the file: the export reads the recipients before it hands the file over.</summary>
    private JSRuntimeInvocation ExportCsv(IRenderedComponent<ContainerFragment> cut)
    {
        var before = h.Ctx.JSInterop.Invocations.Count(i => i.Identifier == "wapbridge.download");
        cut.ClickOn("[data-testid=export-csv]");
        cut.WaitForAssertion(() => Assert.True(h.Ctx.JSInterop.Invocations.Count(i => i.Identifier == "wapbridge.download") > before));
        return h.Ctx.JSInterop.Invocations.Last(i => i.Identifier == "wapbridge.download");
    }
}
