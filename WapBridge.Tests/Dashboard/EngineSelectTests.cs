using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines;
using WapBridge.Web.Components.Pages.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The New instance dialog lists every engine; one this server cannot use is disabled and says why.</summary>
public sealed class EngineSelectTests : IAsyncLifetime
{
    private const string Reason = "Baileys needs Node.js 20 (not found on PATH).";

    private readonly InstanceDashboardHarness h = new(TimeProvider.System,
        configure: s => s.AddSingleton<IWhatsAppEngine>(new UnavailableEngine("baileys", Reason)));
    private Customer customer = default!;

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Engines Ltd");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    [Fact]
    public void Unavailable_engines_are_listed_disabled_with_their_reason_and_the_available_one_is_preselected()
    {
        var cut = h.Ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<InstancesPage>(2);
            b.CloseComponent();
        }));
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));
        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-engine] input"));
        Assert.Equal("Simulator", cut.Find("[data-testid=create-engine] input").GetAttribute("value"));
        Assert.Contains("API name: simulator", cut.Find("[data-testid=create-engine]").TextContent);

        cut.Find("[data-testid=create-engine] .mud-input-control").MouseDown();

        cut.WaitForAssertion(() => Assert.Contains(Reason, cut.Markup));
        var items = cut.FindAll(".mud-list-item");
        var baileys = Assert.Single(items, i => i.TextContent.Contains("baileys"));
        Assert.Contains("WhatsApp (QR)", baileys.TextContent);
        Assert.Contains(Reason, baileys.TextContent);
        Assert.True(baileys.ClassList.Contains("mud-list-item-disabled") || baileys.HasAttribute("disabled") || baileys.GetAttribute("aria-disabled") == "true",
            baileys.OuterHtml);
        var simulator = Assert.Single(items, i => i.TextContent.Contains("simulator"));
        Assert.False(simulator.ClassList.Contains("mud-list-item-disabled"));
    }

    private sealed class UnavailableEngine(string name, string reason) : IWhatsAppEngine
    {
        public string Name => name;
        public string? UnavailableReason => reason;
        public bool SupportsPairingCode => false;
        public IEngineSession CreateSession(EngineSessionContext context) => throw new InvalidOperationException(reason);
    }
}
