using Bunit;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Instances;
using WapBridge.Web.Components.Pages.Instances;

namespace WapBridge.Tests.Dashboard;

/// <summary>The parts of the instance detail on their own, given what <see cref="InstanceDashboard"/> read.</summary>
public sealed class InstancePanelsTests : IAsyncLifetime
{
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private readonly InstanceDashboardHarness h;
    private Customer customer = default!;

    public InstancePanelsTests() => h = new InstanceDashboardHarness(time);

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Duka Ltd");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private InstanceView Baileys(InstanceState status, DateTimeOffset? restrictedUntil = null) => new(
        new InstanceDetails("INST-01-0000042", "Real phone", "baileys", status, status == InstanceState.Connected ? "255700000123" : null, null,
            null, null, "TZ", time.GetUtcNow(), time.GetUtcNow()) { RestrictedUntil = restrictedUntil, RestrictionDetail = restrictedUntil is null ? null : "463" },
        IsDefault: false, Qr: null, SupportsPairingCode: false);

    private IRenderedComponent<T> Render<T>(InstanceView view) where T : InstancePanelBase =>
        h.Ctx.Render<T>(p => p.Add(c => c.CustomerId, customer.Id).Add(c => c.View, view));

    [Fact]
    public async Task Pairing_shows_the_qr_code_the_service_read_and_counts_down_on_the_clock()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var view = await h.Ctx.Services.GetService<InstanceDashboard>()!.GetAsync(customer.Id, instance.InstanceId);
        Assert.NotNull(view.Qr);

        var cut = Render<InstancePairing>(view);

        var image = cut.Find("[data-testid=qr-image]");
        Assert.Equal(view.Qr.QrImage, image.GetAttribute("src"));
        Assert.Equal(view.Qr.Qr, image.GetAttribute("data-qr"));
        var left = (int)Math.Ceiling((view.Qr.ExpiresAt - time.GetUtcNow()).TotalSeconds);
        Assert.Contains($"Scan within {left} s", cut.Find("[data-testid=qr-countdown]").TextContent);
        Assert.NotEmpty(cut.FindAll("[data-testid=use-pairing-code]"));

        time.Advance(TimeSpan.FromSeconds(5));
        cut.WaitForAssertion(() => Assert.Contains($"Scan within {left - 5} s", cut.Find("[data-testid=qr-countdown]").TextContent));
    }

    [Fact]
    public void An_engine_without_pairing_codes_offers_none_and_waits_for_its_qr_code()
    {
        var cut = Render<InstancePairing>(Baileys(InstanceState.Qr));

        Assert.Equal("Waiting for a QR code…", cut.Find("[data-testid=qr-none]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=use-pairing-code]"));
        Assert.Empty(cut.FindAll("[data-testid=pairing-code-panel]"));
    }

    [Fact]
    public void Simulator_tools_are_hidden_for_a_Baileys_instance()
    {
        foreach (var status in new[] { InstanceState.Qr, InstanceState.Pairing, InstanceState.Connected })
        {
            var cut = Render<SimulatorTools>(Baileys(status));
            Assert.Empty(cut.FindAll("[data-testid=simulate-scan]"));
            Assert.Empty(cut.FindAll("[data-testid=inject-form]"));
            Assert.Empty(cut.FindAll("[data-testid=drop-connection]"));
        }
    }

    [Fact]
    public async Task Simulator_tools_scan_while_pairing_and_inject_or_drop_once_connected()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var dashboard = h.Ctx.Services.GetService<InstanceDashboard>()!;
        var pairing = Render<SimulatorTools>(await dashboard.GetAsync(customer.Id, instance.InstanceId));
        Assert.NotEmpty(pairing.FindAll("[data-testid=simulate-scan]"));
        Assert.Empty(pairing.FindAll("[data-testid=inject-form]"));

        await h.Simulator.ScanAsync(instance.InstanceId, "255700000123", null);
        var connected = Render<SimulatorTools>(await dashboard.GetAsync(customer.Id, instance.InstanceId));
        Assert.Empty(connected.FindAll("[data-testid=simulate-scan]"));
        Assert.NotEmpty(connected.FindAll("[data-testid=inject-form]"));
        Assert.NotEmpty(connected.FindAll("[data-testid=drop-connection]"));
    }

    [Fact]
    public void A_restriction_leaves_the_health_panel_when_the_clock_reaches_its_end()
    {
        var cut = Render<InstanceHealth>(Baileys(InstanceState.Connected, restrictedUntil: time.GetUtcNow().AddHours(2)));
        Assert.Contains("restricts this number", cut.Find("[data-testid=restriction]").TextContent);

        time.Advance(TimeSpan.FromHours(1));
        Assert.NotEmpty(cut.FindAll("[data-testid=restriction]"));
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=restriction]")));
        Assert.Equal("Connected as +255700000123", cut.Find("[data-testid=connected-as]").TextContent.Trim());
    }
}
