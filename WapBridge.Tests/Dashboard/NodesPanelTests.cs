using Bunit;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Web.Components.Shared;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The Admin page's Nodes panel on a node of one: the node, its status and the instances living on it.</summary>
public sealed class NodesPanelTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System);
    private Customer customer = default!;

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Nodes Ltd");
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    [Fact]
    public async Task Shows_the_node_active_with_its_instance_count_and_refreshes_on_request()
    {
        var cut = h.Ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<NodesPanel>(1);
            b.CloseComponent();
        }));
        cut.WaitForAssertion(() =>
        {
            var row = cut.Find("[data-testid=node-row]");
            Assert.Equal("01", row.GetAttribute("data-node"));
            Assert.Equal("active", row.GetAttribute("data-status"));
            Assert.Equal("0", cut.Find("[data-testid=node-instances]").TextContent);
        });

        var instance = await h.Instances.CreateAsync(customer.Id, "Counted", "simulator", null);
        await h.Simulator.ScanAsync(instance.InstanceId, "255700000501", null);
        cut.ClickOn("[data-testid=refresh-nodes]");
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=node-instances]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=nodes-error]"));
    }
}
