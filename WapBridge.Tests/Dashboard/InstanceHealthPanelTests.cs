using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Web.Components.Pages.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The instance panel says what the user can trust: retrying with its attempt and time and a Retry now button, a
/// restriction until it ends with an early resume that warns first, no Logout for a never-paired instance, and a New
/// instance dialog that does not preselect an engine which cannot reach WhatsApp.
/// </summary>
public sealed class InstanceHealthPanelTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System,
        configure: s => s.AddSingleton<IWhatsAppEngine>(new OfflineEngine()));
    private Customer customer = default!;

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Duka Ltd");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private async Task UpdateAsync(string code, Action<Instance> change)
    {
        var dbFactory = h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync();
        var instance = await db.Instances.SingleAsync(i => i.Code == code);
        change(instance);
        await db.SaveChangesAsync();
    }

    private async Task<List<string?>> HistoryAsync(string code)
    {
        var dbFactory = h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync();
        var id = await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync();
        return await db.InstanceStateChanges.Where(c => c.InstanceId == id).Select(c => c.Reason).ToListAsync();
    }

    private IRenderedComponent<InstanceDetail> Render(string instanceId) =>
        h.Ctx.Render<InstanceDetail>(p => p.Add(c => c.CustomerId, customer.Id).Add(c => c.InstanceId, instanceId));

    private async Task<string> PairedSimulatorAsync()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        await h.Simulator.ScanAsync(instance.InstanceId, "255700000123", "Duka");
        return instance.InstanceId;
    }

    [Fact]
    public async Task Retrying_shows_the_attempt_and_its_time_and_Retry_now_reconnects()
    {
        var code = await PairedSimulatorAsync();
        var retryAt = DateTimeOffset.UtcNow.AddMinutes(1);
        await UpdateAsync(code, i =>
        {
            i.State = InstanceState.Disconnected;
            i.LastError = CloseCodePolicy.Unreachable;
            i.ReconnectAttempts = 3;
            i.NextRetryAt = retryAt;
        });
        var cut = Render(code);

        cut.WaitForAssertion(() => Assert.Equal(
            $"Retrying (attempt 3) at {retryAt.UtcDateTime:HH:mm:ss} UTC", cut.Find("[data-testid=retry-status]").TextContent.Trim()));
        Assert.Equal("Last error: " + CloseCodePolicy.Unreachable, cut.Find("[data-testid=last-error]").TextContent.Trim());
        Assert.DoesNotContain("ENOTFOUND", cut.Markup);

        cut.ClickOn("[data-testid=retry-now]");
        cut.WaitForAssertion(() => Assert.Equal("connected", cut.Find("[data-testid=instance-status]").GetAttribute("data-status")));
        Assert.Empty(cut.FindAll("[data-testid=retry-panel]"));
        var now = await h.Instances.GetAsync(customer.Id, code);
        Assert.Equal(0, now.ReconnectAttempts);
        Assert.Null(now.NextRetryAt);
    }

    [Fact]
    public async Task A_banned_instance_offers_no_Retry_now()
    {
        var code = await PairedSimulatorAsync();
        await UpdateAsync(code, i =>
        {
            i.State = InstanceState.Disconnected;
            i.LastError = CloseCodePolicy.Banned;
            i.BannedUntil = DateTimeOffset.UtcNow.AddHours(2);
        });
        var cut = Render(code);
        cut.WaitForAssertion(() => Assert.Equal("disconnected", cut.Find("[data-testid=instance-status]").GetAttribute("data-status")));
        Assert.Empty(cut.FindAll("[data-testid=retry-now]"));
    }

    [Fact]
    public async Task Logout_is_disabled_for_an_instance_that_was_never_paired()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Fresh", "simulator", "TZ");
        // Pairing gave up: disconnected, and no phone ever paired.
        await UpdateAsync(instance.InstanceId, i =>
        {
            i.State = InstanceState.Disconnected;
            i.LastError = "QR code not scanned after 6 codes; restart the instance for a new QR code";
        });
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => Assert.Equal("disconnected", cut.Find("[data-testid=instance-status]").GetAttribute("data-status")));
        Assert.True(cut.Find("[data-testid=logout-instance]").HasAttribute("disabled"));

        var paired = await PairedSimulatorAsync();
        await UpdateAsync(paired, i => i.State = InstanceState.Disconnected);
        var other = Render(paired);
        other.WaitForAssertion(() => Assert.Equal("disconnected", other.Find("[data-testid=instance-status]").GetAttribute("data-status")));
        Assert.False(other.Find("[data-testid=logout-instance]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task A_restriction_shows_until_it_ends_and_resume_warns_then_lifts_it_and_records_who()
    {
        var code = await PairedSimulatorAsync();
        await UpdateAsync(code, i =>
        {
            i.RestrictedUntil = DateTimeOffset.UtcNow.AddHours(3);
            i.RestrictionDetail = "WhatsApp refused a message to a new contact (463)";
        });
        var cut = Render(code);
        cut.WaitForAssertion(() => Assert.Contains("restricts this number from messaging new contacts", cut.Find("[data-testid=restriction]").TextContent));

        // A live re-render of the panel may take the click; click until it asks.
        cut.WaitForAssertion(() =>
        {
            if (cut.FindAll("[data-testid=confirm-panel]").Count == 0)
                cut.ClickOn("[data-testid=resume-sending]");
            Assert.NotEmpty(cut.FindAll("[data-testid=confirm-panel]"));
        });
        var confirm = cut.Find("[data-testid=confirm-panel]");
        Assert.Equal("resume", confirm.GetAttribute("data-action"));
        Assert.Contains("can deepen it", confirm.TextContent);
        Assert.NotNull((await h.Instances.GetAsync(customer.Id, code)).RestrictedUntil);

        cut.ClickOn("[data-testid=confirm-action]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=restriction]")));
        Assert.Null((await h.Instances.GetAsync(customer.Id, code)).RestrictedUntil);
        Assert.Contains("restriction lifted early by owner@example.com (dashboard)", await HistoryAsync(code));
    }

    [Fact]
    public async Task A_restriction_that_ended_is_not_shown()
    {
        var code = await PairedSimulatorAsync();
        await UpdateAsync(code, i =>
        {
            i.RestrictedUntil = DateTimeOffset.UtcNow.AddSeconds(2);
            i.RestrictionDetail = "463";
        });
        var cut = Render(code);
        cut.WaitForAssertion(() => cut.Find("[data-testid=restriction]"));
        // No reload needed: the panel drops it once the time has passed.
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=restriction]")), TimeSpan.FromSeconds(10));
        Assert.Null((await h.Instances.GetAsync(customer.Id, code)).RestrictedUntil);
    }

    [Fact]
    public async Task The_new_instance_dialog_does_not_preselect_an_engine_that_cannot_reach_WhatsApp()
    {
        // Another customer's instance on this server retries because the server's network fails.
        var node = h.Ctx.Services.GetRequiredService<IOptions<NodeOptions>>().Value.Id;
        var dbFactory = h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        var other = await h.CreateCustomerAsync("Other Ltd");
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            db.Instances.Add(new Instance
            {
                Code = Instance.FormatCode(node, 9000001), CustomerId = other.Id, Name = "Offline", Engine = "baileys", NodeId = node, SessionNode = node,
                State = InstanceState.Disconnected, LastError = CloseCodePolicy.Unreachable, PhoneNumber = "255700000999",
            });
            await db.SaveChangesAsync();
        }

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
        cut.WaitForAssertion(() => Assert.Equal("Simulator", cut.Find("[data-testid=create-engine] input").GetAttribute("value")));

        cut.Find("[data-testid=create-engine] .mud-input-control").MouseDown();
        cut.WaitForAssertion(() => Assert.Contains("cannot reach WhatsApp", cut.Markup));
        var baileys = Assert.Single(cut.FindAll(".mud-list-item"), i => i.TextContent.Contains("baileys"));
        Assert.Contains("check the server's internet connection, DNS or proxy", baileys.TextContent);
        Assert.False(baileys.ClassList.Contains("mud-list-item-disabled"), "it may still be chosen");
    }

    [Fact]
    public async Task An_engine_with_a_connected_instance_here_is_not_marked_unreachable()
    {
        var node = h.Ctx.Services.GetRequiredService<IOptions<NodeOptions>>().Value.Id;
        var dbFactory = h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            db.Instances.Add(new Instance { Code = Instance.FormatCode(node, 9000002), CustomerId = customer.Id, Name = "Down", Engine = "baileys", NodeId = node, SessionNode = node,
                State = InstanceState.Disconnected, LastError = CloseCodePolicy.Unreachable });
            db.Instances.Add(new Instance { Code = Instance.FormatCode(node, 9000003), CustomerId = customer.Id, Name = "Up", Engine = "baileys", NodeId = node, SessionNode = node,
                State = InstanceState.Connected, PhoneNumber = "255700000998" });
            await db.SaveChangesAsync();
        }
        Assert.Empty(await h.Instances.UnreachableEnginesAsync());
    }

    /// <summary>An engine that is installed (available) but that no test connects.</summary>
    private sealed class OfflineEngine : IWhatsAppEngine
    {
        public string Name => "baileys";
        public string? UnavailableReason => null;
        public bool SupportsPairingCode => false;
        public IEngineSession CreateSession(EngineSessionContext context) => throw new InvalidOperationException("not connected in these tests");
    }
}
