using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>
/// The Overview in a real browser: a message sent through the API moves its figures without a reload, it passes axe
/// and fits a 390 px screen, and only an Admin sees the cluster panels.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class OverviewBrowserTests
{
    private const string AdminEmail = "overview-admin@example.com";
    private const string OwnerEmail = "overview-owner@example.com";
    private const string Password = "Correct-Horse-42";

    [Fact]
    public async Task The_overview_updates_live_passes_axe_on_a_phone_and_shows_admin_panels_to_admins_only()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1280, Height = 900 });
        var page = browserPage.Page;

        // The first account is the Admin.
        await DashboardAccount.RegisterAsync(page, AdminEmail, Password, "Overview Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, "Shop phone", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, "255700111222", "Shop");
        await AccessibilityTests.WaitForAsync(async () => (await instances.GetAsync(customer.Id, instance.InstanceId)).Status == InstanceState.Connected);
        var key = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(customer.Id, "overview test", null);
        using var api = app.CreateApiClient(key.AuthorizationHeader);

        await page.GotoAsync("/");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var sentChart = page.GetByTestId("messages-per-hour");
        await Expect(sentChart).ToHaveAttributeAsync("data-total", "0");
        var tile = page.Locator($"[data-testid=instance-tile][data-instance='{instance.InstanceId}']");
        await Expect(tile).ToHaveAttributeAsync("data-state", "connected");
        await Expect(tile.GetByTestId("tile-last-activity")).ToHaveTextAsync("none yet");
        await Expect(page.GetByTestId("admin-panels").GetByTestId("overview-node")).ToHaveCountAsync(1);
        await page.EvaluateAsync("() => window.__noReload = true");

        (await api.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instance.InstanceId, to_number = "255755123456", message = "Hello overview" }))
            .EnsureOk();

        // Accepted, sent, delivered, read: the chart, its table and the totals follow without a reload.
        await Expect(sentChart).ToHaveAttributeAsync("data-total", "1");
        var currentHour = sentChart.GetByTestId("chart-row").Last;
        await Expect(currentHour.Locator("td[data-series=read]")).ToHaveTextAsync("1", new() { Timeout = 15_000 });
        await Expect(page.GetByTestId("total-read-rate").GetByTestId("total-value")).ToHaveTextAsync("100 %");
        await Expect(page.GetByTestId("total-sent").GetByTestId("total-value")).ToHaveTextAsync("1");
        await Expect(tile.GetByTestId("tile-last-activity")).Not.ToHaveTextAsync("none yet");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");
        var shots = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "overview.png"), FullPage = true });

        // On a phone: axe finds nothing serious, nothing is wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        await page.WaitForTimeoutAsync(300);
        var violations = await AccessibilityTests.AxeAsync(page, "overview (admin, 390 px)");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
        await AssertFitsAsync(page, "overview (admin)");
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "phone-overview.png"), FullPage = true });

        // An Owner of the same customer: the figures, no cluster panels.
        await using (var scope = app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateOwnerAsync(OwnerEmail, Password, customer.Id);
        await page.GetByTestId("logout").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/Account/Login", RegexOptions.IgnoreCase));
        await Expect(page.Locator("#login-submit")).ToBeVisibleAsync();
        await page.Locator("[id='Input.Email']").FillAsync(OwnerEmail);
        await page.Locator("[id='Input.Password']").FillAsync(Password);
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page.GetByTestId("user-email")).ToHaveTextAsync(OwnerEmail);
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("messages-per-hour")).ToHaveAttributeAsync("data-total", "1");
        await Expect(page.GetByTestId("admin-panels")).ToHaveCountAsync(0);
        violations = await AccessibilityTests.AxeAsync(page, "overview (owner, 390 px)");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
        await AssertFitsAsync(page, "overview (owner)");
    }

    private static async Task AssertFitsAsync(IPage page, string label)
    {
        var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        if (width <= 390)
            return;
        var culprits = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 390 && ![...e.children].some(c => c.getBoundingClientRect().right > 390))
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + (e.getAttribute('data-testid') || '') + ' ' + Math.round(e.getBoundingClientRect().right))
            """);
        Assert.Fail($"{label}: the page is {width} px wide on a 390 px screen: {string.Join(", ", culprits)}");
    }
}
