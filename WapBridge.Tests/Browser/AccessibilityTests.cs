using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>
/// Every page checked with axe-core in a real browser (zero serious or critical violations, light and dark theme),
/// plus the keyboard paths axe cannot see.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AccessibilityTests
{
    private const string Email = "a11y@example.com";
    private const string Password = "Correct-Horse-42";

    [Fact]
    public async Task Every_page_has_no_serious_or_critical_axe_violations()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1440, Height = 900 });
        var page = browserPage.Page;
        var found = new List<string>();

        // Account pages, before anyone exists: sign-up is open.
        await page.GotoAsync("/Account/Login");
        await Expect(page.Locator("#login-submit")).ToBeVisibleAsync();
        found.AddRange(await AxeAsync(page, "login"));
        await page.GotoAsync("/Account/Register");
        await Expect(page.Locator("#register-submit")).ToBeVisibleAsync();
        found.AddRange(await AxeAsync(page, "register"));
        await page.GotoAsync("/Account/ForgotPassword");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Forgot your password?");
        found.AddRange(await AxeAsync(page, "forgot password"));
        await page.GotoAsync("/Account/ResetPassword?code=YWJj&email=a%40example.com");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Reset password");
        found.AddRange(await AxeAsync(page, "reset password"));

        await DashboardAccount.RegisterAsync(page, Email, Password, "Accessible Ltd");
        var (connectedInstance, qrInstance) = await SeedAsync(app);

        foreach (var dark in new[] { false, true })
        {
            var theme = dark ? " (dark)" : "";
            await page.GotoAsync("/");
            await DashboardAccount.WaitForInteractiveAsync(page);
            if (dark)
            {
                await page.GetByTestId("theme-toggle").ClickAsync();
                await page.WaitForFunctionAsync("() => getComputedStyle(document.body).backgroundColor !== 'rgb(255, 255, 255)'");
            }
            found.AddRange(await AxeAsync(page, "overview" + theme));

            await DashboardAccount.NavigateAsync(page, "/instances");
            await Expect(page.GetByTestId("instance-row")).ToHaveCountAsync(2);
            found.AddRange(await AxeAsync(page, "instances" + theme));
            await page.Locator($"[data-testid=instance-row]:has-text('{qrInstance}')").ClickAsync();
            await Expect(page.GetByTestId("qr-image")).ToBeVisibleAsync();
            found.AddRange(await AxeAsync(page, "instance QR" + theme));
            if (!dark)
                await ScreenshotAsync(page, "instances.png");
            await page.Locator($"[data-testid=instance-row][data-instance='{connectedInstance}']").ClickAsync();
            await Expect(page.GetByTestId("groups-panel").GetByTestId("no-groups")).ToBeVisibleAsync();
            found.AddRange(await AxeAsync(page, "instance groups" + theme));

            await DashboardAccount.NavigateAsync(page, "/settings");
            await Expect(page.GetByTestId("webhook-panel")).ToBeVisibleAsync();
            found.AddRange(await AxeAsync(page, "settings" + theme));

            await DashboardAccount.NavigateAsync(page, "/campaigns");
            var campaignRow = page.GetByTestId("campaign-row");
            await Expect(campaignRow).ToHaveCountAsync(1);
            found.AddRange(await AxeAsync(page, "campaigns" + theme));
            await campaignRow.Locator("td").First.ClickAsync();
            await Expect(page.GetByTestId("campaign-detail")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("recipient-state")).Not.ToHaveCountAsync(0);
            found.AddRange(await AxeAsync(page, "campaign detail" + theme));
            if (!dark)
                await ScreenshotAsync(page, "campaign-detail.png");
            await page.GetByTestId("new-campaign-button").ClickAsync();
            await Expect(page.GetByTestId("new-campaign")).ToBeVisibleAsync();
            await page.Locator("[data-testid=throttle-panel] .mud-expand-panel-header").ClickAsync();
            // Each throttle field is named by its own label.
            foreach (var label in new[] { "Min delay (s)", "Max delay (s)", "Per hour at most", "Per day at most" })
                await Expect(page.GetByLabel(label, new() { Exact = true })).ToBeEditableAsync();
            found.AddRange(await AxeAsync(page, "new campaign dialog" + theme));
            await page.GetByTestId("cancel-campaign-form").ClickAsync();
            await Expect(page.GetByTestId("new-campaign")).ToHaveCountAsync(0);

            await DashboardAccount.NavigateAsync(page, "/messages");
            var messageRow = page.Locator("[data-testid=messages-table] tbody tr", new() { HasText = "Accessible hello" });
            await Expect(messageRow).ToHaveCountAsync(1);
            await Expect(messageRow.GetByTestId("message-status")).ToHaveAttributeAsync("data-status", "read");
            found.AddRange(await AxeAsync(page, "messages" + theme));
            await messageRow.ClickAsync();
            await Expect(page.GetByTestId("message-detail")).ToBeVisibleAsync();
            await page.WaitForTimeoutAsync(600);
            found.AddRange(await AxeAsync(page, "message drawer" + theme));
            if (!dark)
                await ScreenshotAsync(page, "messages.png");
            await page.GetByTestId("close-detail").ClickAsync();

            await DashboardAccount.NavigateAsync(page, "/check-numbers");
            await Expect(page.GetByTestId("check-submit")).ToBeVisibleAsync();
            found.AddRange(await AxeAsync(page, "check numbers" + theme));

            await DashboardAccount.NavigateAsync(page, "/admin");
            await Expect(page.GetByTestId("user-row")).Not.ToHaveCountAsync(0);
            found.AddRange(await AxeAsync(page, "admin" + theme));
        }

        Assert.True(found.Count == 0, "axe-core found serious or critical violations:\n" + string.Join("\n", found));
    }

    /// <summary>
    /// Writes the README's dashboard tour pictures into docs/screenshots of the source tree, so every run of this test
    /// keeps them current (commit the changed files).
    /// </summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "WapBridge.sln")))
            root = root.Parent;
        if (root is null)
            return; // run from a published test folder, away from the sources: nothing to refresh
        var folder = Directory.CreateDirectory(Path.Combine(root.FullName, "docs", "screenshots"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder.FullName, name) });
    }

    /// <summary>A connected instance with a read message and a finished campaign, and a second instance waiting for its QR scan.</summary>
    internal static async Task<(string Connected, string Qr)> SeedAsync(WapBridgeApp app)
    {
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);
        var instances = app.Services.GetRequiredService<InstanceService>();
        var shop = await instances.CreateAsync(customer.Id, "Shop phone", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(shop.InstanceId, "255700111222", "Shop");
        await WaitForAsync(async () => (await instances.GetAsync(customer.Id, shop.InstanceId)).Status == InstanceState.Connected);
        var desk = await instances.CreateAsync(customer.Id, "Front desk", "simulator", "TZ");

        await app.Services.GetRequiredService<MessageService>().SendAsync(new SendRequest(customer.Id, shop.InstanceId, null, "+255755000001",
            "Accessible hello", null, null, null, null, MessageSources.Api, TimeSpan.FromSeconds(5)));
        await app.Services.GetRequiredService<CampaignService>().CreateAsync(customer.Id, new NewCampaign(
            shop.InstanceId, "Spring promo", "Hello {{name}}", new JsonArray(
                new JsonObject { ["phone_number"] = "+255755000101", ["name"] = "Asha" },
                new JsonObject { ["phone_number"] = "+255755000102", ["name"] = "Juma" },
                // One without its variable: a failed recipient, so its chip and error text are checked too.
                "+255755000103"), null, null, null, null, null, null));
        return (shop.InstanceId, desk.InstanceId);
    }

    /// <summary>The serious and critical violations axe-core finds on the page as it is now, one line each.</summary>
    internal static async Task<IReadOnlyList<string>> AxeAsync(IPage page, string label)
    {
        // Colours are judged as they end up: a snackbar or drawer still fading in would be measured half-transparent.
        // A snackbar's fade is an inline animation that may start (on its hide timer) while axe runs: snackbars switch
        // from shown to gone at once here, so axe sees them fully shown or not at all.
        await page.EvaluateAsync("""
            () => {
                if (document.getElementById('axe-no-snackbar-fade')) return;
                const style = document.createElement('style');
                style.id = 'axe-no-snackbar-fade';
                style.textContent = '.mud-snackbar { animation: none !important; transition: none !important; }';
                document.head.appendChild(style);
            }
            """);
        await page.EvaluateAsync("""
            () => Promise.all(document.getAnimations()
                .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
                .map(a => a.finished.catch(() => null)))
            """);
        var results = await page.RunAxe();
        var found = results.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .SelectMany(v => v.Nodes.Select(n => $"{label}: {v.Id} ({v.Impact}) {v.Help} at {n.Target} {Short(n.Html)} {Short(string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(c => c.Message)))}"))
            .ToList();
        // axe rates these two "moderate"; every page still needs them, to be found by headings and landmarks.
        var mains = await page.Locator("main").CountAsync();
        if (mains != 1)
            found.Add($"{label}: {mains} main landmarks, one expected");
        var headings = await page.Locator("h1").CountAsync();
        if (headings != 1)
            found.Add($"{label}: {headings} h1 headings, one expected");
        return found;
    }

    private static string Short(string? text) => text is null ? "" : text.Length <= 240 ? text : text[..240] + "…";

    internal static async Task WaitForAsync(Func<Task<bool>> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition never held");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Messages_open_from_the_keyboard_and_the_drawer_closes_on_escape_returning_focus()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1280, Height = 900 });
        var page = browserPage.Page;

        // The login heading takes focus after a navigation, for screen readers, but shows no focus box.
        await page.GotoAsync("/Account/Login");
        var heading = page.Locator("h1");
        await heading.EvaluateAsync("h => { h.tabIndex = -1; h.focus(); }");
        Assert.Equal("none", await heading.EvaluateAsync<string>("h => getComputedStyle(h).outlineStyle"));

        await DashboardAccount.RegisterAsync(page, Email, Password, "Keyboard Ltd");
        await SeedAsync(app);
        // The keys are pressed on a table at rest: a live refresh re-rendering the rows between the focus and the
        // Enter is a different story. The seeded campaign stops sending, and what it sent is read.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var customer = await db.Customers.SingleAsync(c => c.Code == "CUST-0001");
            foreach (var campaign in await db.Campaigns.Select(c => c.Code).ToListAsync())
                await app.Services.GetRequiredService<CampaignService>().CancelAsync(customer.Id, campaign);
        }
        await WaitForAsync(async () =>
        {
            await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
            return await db.Messages.AllAsync(m => m.Status == MessageStatus.Read || m.Status == MessageStatus.Failed);
        }, seconds: 30);
        await page.GotoAsync("/messages");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var row = page.Locator("[data-testid=messages-table] tbody tr", new() { HasText = "Accessible hello" });
        await Expect(row).ToHaveCountAsync(1);

        // Tab reaches the row; Enter opens it.
        await Expect(row).ToHaveAttributeAsync("tabindex", "0");
        await page.GetByTestId("clear-filters").FocusAsync();
        for (var i = 0; i < 40 && !await row.EvaluateAsync<bool>("r => r === document.activeElement"); i++)
            await page.Keyboard.PressAsync("Tab");
        Assert.True(await row.EvaluateAsync<bool>("r => r === document.activeElement"), "Tab never reached the message row");
        await page.Keyboard.PressAsync("Enter");

        // The drawer takes focus, closes on Esc and gives focus back to the row.
        var detail = page.GetByTestId("message-detail");
        await Expect(detail).ToBeVisibleAsync();
        await Expect(detail).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(detail).ToHaveCountAsync(0);
        await page.WaitForFunctionAsync("() => document.activeElement && document.activeElement.tagName === 'TR'");
        Assert.Contains("Accessible hello", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));

        // Space opens it too.
        await page.Keyboard.PressAsync(" ");
        await Expect(detail).ToBeVisibleAsync();
    }
}
