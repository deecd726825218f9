using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>
/// The instance's account health on a phone (390 px): created with its own time zone, the panel says when the budget
/// resets there, passes axe, fits the screen, and the override asks first and then shows until when it holds.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class InstanceHealthBrowserTests
{
    private const int Width = 390;

    [Fact]
    public async Task The_health_panel_on_a_phone_passes_axe_and_the_override_asks_first_then_shows_its_end()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(settings: GenerousBudget.Shipped(), kestrel: true);
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = Width, Height = 844 });
        var page = browserPage.Page;
        var found = new List<string>();

        await DashboardAccount.RegisterAsync(page, "health@example.com", "Correct-Horse-42", "Health Ltd");
        // On a phone the menu is folded away: straight to the page.
        await page.GotoAsync("/instances");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("no-instances")).ToBeVisibleAsync();

        var newInstance = page.GetByTestId("new-instance");
        await Expect(newInstance).ToBeEnabledAsync();
        await newInstance.ClickAsync();
        await page.Locator("[data-testid=create-name] input").FillAsync("Front desk");
        await page.Locator("[data-testid=create-country] input").FillAsync("tz");
        var zone = page.Locator("[data-testid=create-timezone] input");
        await Expect(zone).ToHaveAttributeAsync("placeholder", "from the number");
        await zone.FillAsync("Africa/Nairobi");
        await zone.PressAsync("Tab");
        found.AddRange(await AccessibilityTests.AxeAsync(page, "new instance dialog (390 px)"));
        await page.GetByTestId("create-instance").ClickAsync();
        await Expect(page.GetByTestId("create-instance")).ToHaveCountAsync(0);

        var panel = page.GetByTestId("health-panel");
        await Expect(panel).ToBeVisibleAsync();
        await Expect(panel.GetByTestId("health-level")).ToHaveTextAsync("Good");
        await Expect(panel.GetByTestId("health-budget")).ToHaveTextAsync("10 of 10 new contacts left today.");
        await Expect(panel.GetByTestId("health-warm-up")).ToHaveTextAsync("Warming up: day 1 of 14.");
        await Expect(panel.GetByTestId("health-reset")).ToContainTextAsync("Africa/Nairobi");
        found.AddRange(await AccessibilityTests.AxeAsync(page, "instance health (390 px)"));
        await AssertFitsAsync(page, "instance health");

        var overrideButton = panel.GetByTestId("override-protection");
        await overrideButton.ScrollIntoViewIfNeededAsync();
        await overrideButton.ClickAsync();
        await Expect(page.GetByTestId("override-risk")).ToContainTextAsync("WhatsApp may restrict or ban the number");
        found.AddRange(await AccessibilityTests.AxeAsync(page, "override dialog (390 px)"));
        await page.GetByTestId("confirm-override").ClickAsync();

        await Expect(panel.GetByTestId("health-overridden")).ToContainTextAsync("Protection overridden until");
        await Expect(panel.GetByTestId("override-protection")).ToHaveCountAsync(0);
        await Expect(panel.GetByTestId("health-budget")).ToContainTextAsync("No new-contact limit while protection is overridden");
        found.AddRange(await AccessibilityTests.AxeAsync(page, "instance overridden (390 px)"));
        await AssertFitsAsync(page, "instance overridden");

        Assert.True(found.Count == 0, "axe-core found serious or critical violations:\n" + string.Join("\n", found));
    }

    private static async Task AssertFitsAsync(IPage page, string label)
    {
        var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(width <= Width, $"{label}: the page is {width} px wide on a {Width} px screen");
    }
}
