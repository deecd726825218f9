using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>Every dashboard page on a phone-sized screen (390×844): nothing wider than the screen, the actions in reach.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PhoneLayoutTests
{
    private const int Width = 390;

    [Fact]
    public async Task Every_page_fits_a_390px_screen_with_its_actions_in_reach()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = Width, Height = 844 });
        var page = browserPage.Page;
        var shots = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");

        await page.GotoAsync("/Account/Login");
        await AssertFitsAsync(page, "login");
        await DashboardAccount.RegisterAsync(page, "phone@example.com", "Correct-Horse-42", "Phone Ltd");
        var (connectedInstance, qrInstance) = await AccessibilityTests.SeedAsync(app);

        await page.GotoAsync("/");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await AssertFitsAsync(page, "overview");

        await page.GotoAsync("/instances");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var rows = page.GetByTestId("instance-row");
        await Expect(rows).ToHaveCountAsync(2);
        await AssertFitsAsync(page, "instances");
        // Ids stay on one line: cut short with an ellipsis, the whole id in the tooltip.
        var id = rows.First.GetByTestId("instance-id");
        Assert.Equal("nowrap", await id.EvaluateAsync<string>("e => getComputedStyle(e).whiteSpace"));
        Assert.NotNull(await id.GetAttributeAsync("title"));
        // The phone column is not cut off at the screen's edge.
        await rows.First.GetByTestId("instance-phone").ScrollIntoViewIfNeededAsync();
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "phone-instances-list.png") });
        await Expect(rows.First.GetByTestId("instance-phone")).ToBeInViewportAsync(new() { Ratio = 1 });
        await page.Locator($"[data-testid=instance-row][data-instance='{qrInstance}']").ClickAsync();
        await Expect(page.GetByTestId("qr-image")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "instance QR");
        await AssertReachableAsync(page.GetByTestId("delete-instance"));
        await AssertReachableAsync(page.GetByTestId("restart-instance"));
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "phone-instances.png"), FullPage = true });
        await page.Locator($"[data-testid=instance-row][data-instance='{connectedInstance}']").ClickAsync();
        await Expect(page.GetByTestId("groups-panel")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "instance groups");
        await AssertReachableAsync(page.GetByTestId("new-group"));

        await page.GotoAsync("/campaigns");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var campaign = page.GetByTestId("campaign-row");
        await Expect(campaign).ToHaveCountAsync(1);
        await AssertFitsAsync(page, "campaigns");
        await Expect(campaign.GetByTestId("campaign-progress")).ToBeVisibleAsync();
        await AssertReachableAsync(page.GetByTestId("new-campaign-button"));
        await campaign.Locator("td").First.ClickAsync();
        await Expect(page.GetByTestId("campaign-detail")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "campaign detail");
        await AssertReachableAsync(page.GetByTestId("export-csv"));
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "phone-campaigns.png"), FullPage = true });

        await page.GotoAsync("/messages");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var message = page.Locator("[data-testid=messages-table] tbody tr", new() { HasText = "Accessible hello" });
        await Expect(message).ToHaveCountAsync(1);
        await AssertFitsAsync(page, "messages");
        // The filters wait behind a button, so the first screen shows messages.
        await Expect(page.GetByTestId("message-filters")).ToBeHiddenAsync();
        await Expect(message).ToBeInViewportAsync();
        await page.GetByTestId("toggle-filters").ClickAsync();
        await Expect(page.Locator("[data-testid=filter-search] input")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "messages with filters");
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "phone-messages.png"), FullPage = true });
        await message.ClickAsync();
        await Expect(page.GetByTestId("message-detail")).ToBeVisibleAsync();
        await AssertReachableAsync(page.GetByTestId("close-detail"));
        await page.GetByTestId("close-detail").ClickAsync();

        await page.GotoAsync("/settings");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("webhook-panel")).ToBeVisibleAsync();
        if (shots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "phone-settings.png"), FullPage = true });
        await AssertFitsAsync(page, "settings");

        await page.GotoAsync("/check-numbers");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("check-submit")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "check numbers");
        await AssertReachableAsync(page.GetByTestId("check-submit"));

        await page.GotoAsync("/admin");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("user-row")).ToHaveCountAsync(1);
        await AssertFitsAsync(page, "admin");
    }

    internal static async Task AssertFitsAsync(IPage page, string label)
    {
        var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        if (width <= Width)
            return;
        // Name the innermost elements that stick out, so the failure says where to look.
        var culprits = await page.EvaluateAsync<string[]>($$"""
            () => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > {{Width}} && ![...e.children].some(c => c.getBoundingClientRect().right > {{Width}}))
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + (e.getAttribute('data-testid') || '') + ' ' + Math.round(e.getBoundingClientRect().right))
            """);
        Assert.Fail($"{label}: the page is {width} px wide on a {Width} px screen: {string.Join(", ", culprits)}");
    }

    /// <summary>Scrolled to, the control is on screen and takes a click (nothing covers it).</summary>
    internal static async Task AssertReachableAsync(ILocator control)
    {
        await control.ScrollIntoViewIfNeededAsync();
        await Expect(control).ToBeInViewportAsync();
        await control.ClickAsync(new LocatorClickOptions { Trial = true });
    }
}
