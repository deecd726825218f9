using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Web.Components.Pages.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>"Make default" on the instance detail panel: the instance that sends when a request (ERPNext's) names none.</summary>
public sealed class InstanceDefaultTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System);
    private Customer customer = default!;

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Duka Ltd");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private IRenderedComponent<InstanceDetail> Render(string instanceId) =>
        h.Ctx.Render<InstanceDetail>(p =>
        {
            p.Add(c => c.CustomerId, customer.Id);
            p.Add(c => c.InstanceId, instanceId);
        });

    private async Task<(int? DefaultId, int InstanceId)> ReadAsync(string code)
    {
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var defaultId = await db.Customers.Where(c => c.Id == customer.Id).Select(c => c.DefaultInstanceId).SingleAsync();
        var id = await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync();
        return (defaultId, id);
    }

    [Fact]
    public async Task Make_default_sets_the_customers_default_instance_and_shows_the_chip()
    {
        await h.Instances.CreateAsync(customer.Id, "Office", "simulator", "TZ");
        var shop = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var cut = Render(shop.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=make-default]"));
        Assert.Empty(cut.FindAll("[data-testid=default-label]"));
        Assert.Null((await ReadAsync(shop.InstanceId)).DefaultId);

        cut.ClickOn("[data-testid=make-default]");

        cut.WaitForAssertion(() => Assert.Equal("Default", cut.Find("[data-testid=default-label]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=make-default]"));
        var (defaultId, instanceId) = await ReadAsync(shop.InstanceId);
        Assert.Equal(instanceId, defaultId);
    }

    [Fact]
    public async Task The_default_instance_shows_the_chip_and_another_instance_offers_the_button()
    {
        var office = await h.Instances.CreateAsync(customer.Id, "Office", "simulator", "TZ");
        var shop = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        await h.Instances.SetDefaultAsync(customer.Id, office.InstanceId);

        var cut = Render(office.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=default-label]"));
        Assert.Empty(cut.FindAll("[data-testid=make-default]"));

        var other = Render(shop.InstanceId);
        other.WaitForAssertion(() => other.Find("[data-testid=make-default]"));
        Assert.Empty(other.FindAll("[data-testid=default-label]"));
    }
}
