using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Web.Components.Pages;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The Admin page's per-customer "Allow unthrottled campaigns" switch: allowing asks first and says what it risks.</summary>
public sealed class UnthrottledCampaignsSwitchTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System);
    private Customer customer = default!;

    private CustomerService Customers => h.Ctx.Services.GetRequiredService<CustomerService>();

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Bulk Ltd");
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private async Task<bool> AllowedAsync() => (await Customers.ListAsync(50, 0)).Items.Single(c => c.Id == customer.Id).AllowUnthrottledCampaigns;

    private async Task<IRenderedComponent<ContainerFragment>> RenderAsync()
    {
        var summary = (await Customers.ListAsync(50, 0)).Items.Single(c => c.Id == customer.Id);
        return h.Render<UnthrottledCampaignsSwitch>(b => b.AddAttribute(11, nameof(UnthrottledCampaignsSwitch.Customer), summary));
    }

    [Fact]
    public async Task Allowing_asks_first_saying_what_it_risks_and_taking_it_back_does_not()
    {
        var cut = await RenderAsync();
        Assert.Equal("false", cut.Find("[data-testid=unthrottled]").GetAttribute("data-allowed"));

        cut.Find("[data-testid=unthrottled] input").Change(true);
        var risk = System.Text.RegularExpressions.Regex.Replace(cut.WaitForElement("[data-testid=unthrottled-risk]").TextContent, @"\s+", " ");
        Assert.Contains("no delay between messages and no hourly or daily limit", risk);
        Assert.Contains("restricted or banned by WhatsApp", risk);
        Assert.False(await AllowedAsync());

        cut.ClickOn("[data-testid=confirm-unthrottled]");
        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find("[data-testid=unthrottled]").GetAttribute("data-allowed")));
        Assert.True(await AllowedAsync());

        cut.Find("[data-testid=unthrottled] input").Change(false);
        cut.WaitForAssertion(() => Assert.Equal("false", cut.Find("[data-testid=unthrottled]").GetAttribute("data-allowed")));
        Assert.False(await AllowedAsync());
        Assert.Empty(cut.FindAll("[data-testid=unthrottled-risk]"));
    }

    [Fact]
    public async Task Cancel_allows_nothing()
    {
        var cut = await RenderAsync();
        cut.Find("[data-testid=unthrottled] input").Change(true);
        cut.WaitForElement("[data-testid=cancel-unthrottled]").Click();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=unthrottled-risk]")));
        Assert.Equal("false", cut.Find("[data-testid=unthrottled]").GetAttribute("data-allowed"));
        Assert.False(await AllowedAsync());
    }
}
