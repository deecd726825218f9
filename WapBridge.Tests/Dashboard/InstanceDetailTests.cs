using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Web.Components.Pages.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The instance detail panel on the real instance services, simulator engine and a SQLite file.</summary>
public sealed class InstanceDetailTests : IAsyncLifetime
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

    private async Task<InstanceDetails> NewInstanceAsync(string name = "Shop") =>
        await h.Instances.CreateAsync(customer.Id, name, "simulator", "TZ");

    private IRenderedComponent<InstanceDetail> Render(string instanceId, Action<ComponentParameterCollectionBuilder<InstanceDetail>>? more = null) =>
        h.Ctx.Render<InstanceDetail>(p =>
        {
            p.Add(c => c.CustomerId, customer.Id);
            p.Add(c => c.InstanceId, instanceId);
            more?.Invoke(p);
        });

    [Fact]
    public async Task A_new_simulator_instance_shows_its_qr_code_with_a_countdown_and_the_simulator_label()
    {
        var instance = await NewInstanceAsync();
        var cut = Render(instance.InstanceId);

        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));
        var image = cut.Find("[data-testid=qr-image]");
        Assert.StartsWith("data:image/png;base64,", image.GetAttribute("src"));
        var pending = await h.Instances.GetQrAsync(customer.Id, instance.InstanceId);
        Assert.Equal(pending.QrImage, image.GetAttribute("src"));
        Assert.Equal("qr", cut.Find("[data-testid=instance-status]").GetAttribute("data-status"));
        Assert.Matches(@"Scan within \d+ s", cut.Find("[data-testid=qr-countdown]").TextContent);
        Assert.Equal("Simulator", cut.Find("[data-testid=simulator-label]").TextContent.Trim());
        Assert.Equal(instance.InstanceId, cut.Find("[data-testid=detail-id]").TextContent.Trim());
        Assert.Equal("TZ", cut.Find("[data-testid=detail-country]").TextContent.Trim());
        Assert.NotEmpty(cut.FindAll("[data-testid=simulate-scan]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=use-pairing-code]"));
        Assert.Empty(cut.FindAll("[data-testid=connected-as]"));
        Assert.Empty(cut.FindAll("[data-testid=inject-form]"));
    }

    [Fact]
    public async Task Messages_that_could_not_be_decrypted_are_counted_on_the_detail()
    {
        var instance = await NewInstanceAsync();
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));
        Assert.Empty(cut.FindAll("[data-testid=undecryptable]"));

        var dbFactory = h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
            await db.Instances.Where(i => i.Code == instance.InstanceId).ExecuteUpdateAsync(u => u.SetProperty(i => i.UndecryptableMessages, 3));
        var again = Render(instance.InstanceId);
        again.WaitForAssertion(() => Assert.Equal("3 messages could not be decrypted", again.Find("[data-testid=undecryptable]").TextContent.Trim()));
    }

    [Fact]
    public async Task Simulate_scan_connects_and_shows_connected_as_the_number()
    {
        var instance = await NewInstanceAsync();
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));

        // A local number is read with the instance's default country (TZ).
        cut.Find("[data-testid=scan-phone] input").Input("0700 000 123");
        cut.Find("[data-testid=scan-push-name] input").Input("Duka");
        cut.ClickOn("[data-testid=simulate-scan]");

        cut.WaitForAssertion(() => Assert.Equal("Connected as +255700000123", cut.Find("[data-testid=connected-as]").TextContent.Trim()));
        Assert.Equal("Duka", cut.Find("[data-testid=connected-push-name]").TextContent.Trim());
        Assert.Equal("connected", cut.Find("[data-testid=instance-status]").GetAttribute("data-status"));
        Assert.Empty(cut.FindAll("[data-testid=qr-image]"));
        Assert.Empty(cut.FindAll("[data-testid=simulate-scan]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=inject-form]"));
        var stored = await h.Instances.GetAsync(customer.Id, instance.InstanceId);
        Assert.Equal("255700000123", stored.PhoneNumber);
    }

    [Fact]
    public async Task A_scan_from_elsewhere_flips_the_panel_to_connected_live()
    {
        var instance = await NewInstanceAsync();
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));

        // As the API's scan_qr or a real phone would: only the change feed tells the panel.
        await h.Simulator.ScanAsync(instance.InstanceId, "255711222333", "Remote");

        cut.WaitForAssertion(() => Assert.Equal("Connected as +255711222333", cut.Find("[data-testid=connected-as]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=qr-image]"));
    }

    [Fact]
    public async Task An_invalid_scan_number_is_explained_and_nothing_connects()
    {
        var instance = await NewInstanceAsync();
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));

        cut.Find("[data-testid=scan-phone] input").Input("not a number");
        cut.ClickOn("[data-testid=simulate-scan]");

        cut.WaitForAssertion(() => Assert.Contains("phone_number is not a valid phone number", cut.Find("[data-testid=action-error]").TextContent));
        Assert.Equal(InstanceState.Qr, (await h.Instances.GetAsync(customer.Id, instance.InstanceId)).Status);
        Assert.NotEmpty(cut.FindAll("[data-testid=qr-image]"));
    }

    [Fact]
    public async Task Pairing_code_shows_an_eight_character_code_that_pairs_the_same_number()
    {
        var instance = await NewInstanceAsync();
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=use-pairing-code]"));

        cut.ClickOn("[data-testid=use-pairing-code]");
        // The click re-renders the pairing panel asynchronously: on a loaded machine the field is not there at once.
        cut.WaitForElement("[data-testid=pairing-phone] input").Input("+255 755 123 456");
        cut.ClickOn("[data-testid=request-pairing-code]");

        cut.WaitForAssertion(() => Assert.Matches("^[A-Z0-9]{8}$", cut.Find("[data-testid=pairing-code]").GetAttribute("data-code")));
        Assert.Matches("^[A-Z0-9]{4}-[A-Z0-9]{4}$", cut.Find("[data-testid=pairing-code]").TextContent.Trim());
        cut.WaitForAssertion(() => Assert.Equal("pairing", cut.Find("[data-testid=instance-status]").GetAttribute("data-status")));

        // The phone types the code: the simulator confirms it for that number only.
        cut.Find("[data-testid=scan-phone] input").Input("0755123456");
        cut.ClickOn("[data-testid=simulate-scan]");
        cut.WaitForAssertion(() => Assert.Equal("Connected as +255755123456", cut.Find("[data-testid=connected-as]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=pairing-code]"));
    }

    [Fact]
    public async Task Inject_inbound_message_on_a_connected_simulator()
    {
        var instance = await NewInstanceAsync();
        await h.Simulator.ScanAsync(instance.InstanceId, "255700000123", null);
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=inject-form]"));

        cut.Find("[data-testid=inject-from] input").Input("0711 000 222");
        cut.Find("[data-testid=inject-text] input").Input("Habari");
        cut.ClickOn("[data-testid=inject-send]");

        cut.WaitForAssertion(() => Assert.Contains("Delivered as message", cut.Find("[data-testid=inject-result]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=action-error]"));
    }

    [Fact]
    public async Task Logout_asks_first_then_logs_out_and_restart_shows_a_new_qr_code()
    {
        var instance = await NewInstanceAsync();
        await h.Simulator.ScanAsync(instance.InstanceId, "255700000123", null);
        var cut = Render(instance.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=connected-as]"));

        // Live updates (the connection, its health judged) may re-render the page under a click: click until it asks.
        void AskToLogOut() => cut.WaitForAssertion(() =>
        {
            if (cut.FindAll("[data-testid=confirm-panel]").Count == 0)
                cut.ClickOn("[data-testid=logout-instance]");
            Assert.Equal("logout", cut.Find("[data-testid=confirm-panel]").GetAttribute("data-action"));
        });
        AskToLogOut();
        Assert.Equal(InstanceState.Connected, (await h.Instances.GetAsync(customer.Id, instance.InstanceId)).Status);
        cut.ClickOn("[data-testid=cancel-action]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=confirm-panel]")));

        AskToLogOut();
        cut.ClickOn("[data-testid=confirm-action]");
        cut.WaitForAssertion(() => Assert.Equal("logged_out", cut.Find("[data-testid=instance-status]").GetAttribute("data-status")));
        Assert.Contains("logged_out", cut.Find("[data-testid=last-error]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=connected-as]"));

        // As a person would: once the logout has finished, click Restart (again, if a live update re-rendered the
        // page under the first click) until it asks.
        cut.WaitForAssertion(() =>
        {
            if (cut.FindAll("[data-testid=confirm-action]").Count == 0)
                cut.ClickOn("[data-testid=restart-instance]:not([disabled])");
            Assert.Equal("restart", cut.Find("[data-testid=confirm-panel]").GetAttribute("data-action"));
        });
        cut.ClickOn("[data-testid=confirm-action]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));
        Assert.Equal("qr", cut.Find("[data-testid=instance-status]").GetAttribute("data-status"));
    }

    [Fact]
    public async Task Delete_asks_first_then_deletes_and_tells_the_page()
    {
        var instance = await NewInstanceAsync();
        string? deleted = null;
        var cut = Render(instance.InstanceId, p => p.Add(c => c.OnDeleted, id => deleted = id));
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));

        // Clicked again if a live update re-rendered the page under the first click, as a person would.
        cut.WaitForAssertion(() =>
        {
            if (cut.FindAll("[data-testid=confirm-action]").Count == 0)
                cut.ClickOn("[data-testid=delete-instance]:not([disabled])");
            Assert.Equal("delete", cut.Find("[data-testid=confirm-panel]").GetAttribute("data-action"));
        });
        Assert.Null(deleted);
        Assert.Single((await h.Instances.ListAsync(customer.Id, new(50, 0))).Data);

        cut.ClickOn("[data-testid=confirm-action]");
        cut.WaitForAssertion(() => Assert.Equal(instance.InstanceId, deleted));
        Assert.Empty((await h.Instances.ListAsync(customer.Id, new(50, 0))).Data);
    }

    [Fact]
    public async Task Another_customers_instance_is_not_shown()
    {
        var stranger = await h.CreateCustomerAsync("Stranger");
        var theirs = await h.Instances.CreateAsync(stranger.Id, "Their secret shop", "simulator", null);
        var cut = Render(theirs.InstanceId);

        cut.WaitForAssertion(() => Assert.Contains("no longer exists", cut.Find("[data-testid=detail-error]").TextContent));
        Assert.DoesNotContain("Their secret shop", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=qr-image]"));
    }
}

/// <summary>QR rotation and the countdown, on a fake clock the simulator's QR timers also run on.</summary>
public sealed class InstanceDetailQrRotationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private readonly InstanceDashboardHarness h;
    private Customer customer = default!;

    public InstanceDetailQrRotationTests() =>
        h = new InstanceDashboardHarness(time, o =>
        {
            o.FirstQrLifetime = TimeSpan.FromSeconds(60);
            o.NextQrLifetime = TimeSpan.FromSeconds(20);
            o.MaxQrCodes = 2;
        });

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Clockwork");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    [Fact]
    public async Task The_qr_code_counts_down_swaps_when_it_rotates_and_pairing_expiry_is_explained()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Clock", "simulator", null);
        var cut = h.Ctx.Render<InstanceDetail>(p => p.Add(c => c.CustomerId, customer.Id).Add(c => c.InstanceId, instance.InstanceId));
        cut.WaitForAssertion(() => cut.Find("[data-testid=qr-image]"));
        var first = cut.Find("[data-testid=qr-image]").GetAttribute("data-qr");
        cut.WaitForAssertion(() => Assert.Contains("Scan within 60 s", cut.Find("[data-testid=qr-countdown]").TextContent));

        time.Advance(TimeSpan.FromSeconds(15));
        cut.WaitForAssertion(() => Assert.Contains("Scan within 45 s", cut.Find("[data-testid=qr-countdown]").TextContent));

        // The simulator rotates the code after 60 s; the panel shows the new one by itself.
        time.Advance(TimeSpan.FromSeconds(45));
        cut.WaitForAssertion(() =>
        {
            var second = cut.Find("[data-testid=qr-image]").GetAttribute("data-qr");
            Assert.NotEqual(first, second);
            Assert.Contains("Scan within 20 s", cut.Find("[data-testid=qr-countdown]").TextContent);
        });
        var pending = await h.Instances.GetQrAsync(customer.Id, instance.InstanceId);
        Assert.Equal(pending.Qr, cut.Find("[data-testid=qr-image]").GetAttribute("data-qr"));

        // After the last code, pairing gives up: no QR, and the reason is shown.
        time.Advance(TimeSpan.FromSeconds(20));
        cut.WaitForAssertion(() => Assert.Equal("disconnected", cut.Find("[data-testid=instance-status]").GetAttribute("data-status")));
        Assert.Empty(cut.FindAll("[data-testid=qr-image]"));
        Assert.Contains("QR code not scanned", cut.Find("[data-testid=last-error]").TextContent);
    }
}
