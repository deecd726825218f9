using Bunit;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Web.Components.Pages.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The /instances page: its list follows the instances live, the dialog creates one and selects it.</summary>
public sealed class InstancesPageTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System);
    private Customer customer = default!;

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("List Ltd");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    // The dialog and the select render through these providers, as in MainLayout.
    private IRenderedComponent<ContainerFragment> RenderPage() =>
        h.Ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<InstancesPage>(2);
            b.CloseComponent();
        }));

    [Fact]
    public async Task Rows_show_status_phone_push_name_and_simulator_label_and_follow_changes_live()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Counter", "simulator", "TZ");
        var stranger = await h.CreateCustomerAsync("Stranger");
        await h.Instances.CreateAsync(stranger.Id, "Not mine", "simulator", null);

        var cut = RenderPage();
        var row = $"[data-testid=instance-row][data-instance='{instance.InstanceId}']";
        cut.WaitForAssertion(() => cut.Find(row));
        Assert.Single(cut.FindAll("[data-testid=instance-row]"));
        Assert.DoesNotContain("Not mine", cut.Markup);
        Assert.Equal("Counter", cut.Find($"{row} [data-testid=instance-name]").TextContent.Trim());
        Assert.Equal("Simulator", cut.Find($"{row} [data-testid=simulator-label]").TextContent.Trim());
        Assert.Equal("qr", cut.Find($"{row} [data-testid=instance-status]").GetAttribute("data-status"));
        Assert.Empty(cut.FindAll("[data-testid=instance-detail]"));

        // Paired elsewhere (API, phone): the row follows without any action on the page.
        await h.Simulator.ScanAsync(instance.InstanceId, "255700000777", "Kibanda");
        cut.WaitForAssertion(() => Assert.Equal("connected", cut.Find($"{row} [data-testid=instance-status]").GetAttribute("data-status")));
        Assert.Equal("+255700000777", cut.Find($"{row} [data-testid=instance-phone]").TextContent.Trim());
        Assert.Equal("Kibanda", cut.Find($"{row} [data-testid=instance-push-name]").TextContent.Trim());

        // Selecting the row opens its detail.
        cut.Find(row).Click();
        cut.WaitForAssertion(() => Assert.Equal("Connected as +255700000777", cut.Find("[data-testid=connected-as]").TextContent.Trim()));
        Assert.Equal("true", cut.Find(row).GetAttribute("data-selected"));
    }

    [Fact]
    public void New_instance_dialog_creates_a_simulator_instance_and_opens_it()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));

        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-name] input"));
        cut.Find("[data-testid=create-name] input").Input("Reception");
        cut.Find("[data-testid=create-country] input").Input("ke");
        cut.ClickOn("[data-testid=create-instance]");

        // Creating opens a session that must reach its first QR code: longer than a render on a busy machine.
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"), TimeSpan.FromSeconds(10));
        // The dialog closes in a render of its own, which may come after the new instance's QR code.
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=create-instance]")));
        var row = cut.Find("[data-testid=instance-row]");
        Assert.Contains("Reception", row.TextContent);
        Assert.Equal("KE", cut.Find("[data-testid=detail-country]").TextContent.Trim());
    }

    [Fact]
    public void An_invalid_default_country_is_explained_in_the_dialog()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));

        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-country] input"));
        cut.Find("[data-testid=create-country] input").Input("T1");
        cut.ClickOn("[data-testid=create-instance]");

        cut.WaitForAssertion(() => Assert.Contains("two-letter ISO 3166 code", cut.Find("[data-testid=create-error]").TextContent));
        Assert.NotEmpty(cut.FindAll("[data-testid=create-instance]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=no-instances]"));
    }

    [Fact]
    public async Task The_time_zone_chosen_on_create_is_the_instance_zone_its_budget_resets_in()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));

        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-timezone] input"));
        Assert.Equal("from the number", cut.Find("[data-testid=create-timezone] input").GetAttribute("placeholder"));
        cut.Find("[data-testid=create-country] input").Input("TZ");
        cut.Find("[data-testid=create-timezone] input").Input("Europe/Berlin");
        cut.Find("[data-testid=create-timezone] input").Blur();
        cut.ClickOn("[data-testid=create-instance]");

        cut.WaitForAssertion(() => Assert.Contains("Europe/Berlin", cut.Find("[data-testid=health-reset]").TextContent), TimeSpan.FromSeconds(10));
        var code = cut.Find("[data-testid=instance-row]").GetAttribute("data-instance")!;
        Assert.Equal("Europe/Berlin", (await h.Instances.GetAsync(customer.Id, code)).TimeZone);
    }

    [Fact]
    public async Task An_empty_time_zone_takes_the_number_zone()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));

        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-country] input"));
        cut.Find("[data-testid=create-country] input").Input("KE");
        cut.ClickOn("[data-testid=create-instance]");

        cut.WaitForAssertion(() => Assert.Contains("Africa/Nairobi", cut.Find("[data-testid=health-reset]").TextContent), TimeSpan.FromSeconds(10));
        var code = cut.Find("[data-testid=instance-row]").GetAttribute("data-instance")!;
        Assert.Equal("Africa/Nairobi", (await h.Instances.GetAsync(customer.Id, code)).TimeZone);
    }

    [Fact]
    public void An_unknown_time_zone_is_explained_under_the_field_in_its_label_words()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));

        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-timezone] input"));
        cut.Find("[data-testid=create-timezone] input").Input("Mars/Olympus");
        cut.Find("[data-testid=create-timezone] input").Blur();
        cut.ClickOn("[data-testid=create-instance]");

        cut.WaitForAssertion(() => Assert.Equal("Time zone 'Mars/Olympus' is not a time zone such as Africa/Dar_es_Salaam",
            cut.Find("[data-testid=create-timezone] .mud-input-helper-text").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=create-error]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=no-instances]"));
    }
}
