using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>Pairing an instance from the dashboard in a real browser, with live updates and no page reload.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InstancesPageTests
{
    private const string Marker = "window.__wapbridgeNoReload";

    [Fact]
    public async Task Create_a_simulator_instance_scan_its_qr_code_and_see_it_connect_live()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();

        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1440, Height = 960 });
        var page = browserPage.Page;
        var screenshots = Environment.GetEnvironmentVariable("INSTANCES_SCREENSHOT_DIR");

        await DashboardAccount.RegisterAsync(page, "pairing@example.com", "Correct-Horse-42", "Pairing Ltd");
        await DashboardAccount.NavigateAsync(page, "/instances");
        await Expect(page.GetByTestId("no-instances")).ToBeVisibleAsync();

        // New instance dialog: the simulator is the only engine here, so it is preselected.
        var newInstance = page.GetByTestId("new-instance");
        await Expect(newInstance).ToBeEnabledAsync();
        await newInstance.ClickAsync();
        await Expect(page.Locator("[data-testid=create-engine]")).ToContainTextAsync("simulator");
        await page.Locator("[data-testid=create-name] input").FillAsync("Front desk");
        await page.Locator("[data-testid=create-country] input").FillAsync("tz");
        if (screenshots is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "instances-dialog.png") });
        await page.GetByTestId("create-instance").ClickAsync();

        // The dialog closes and the new instance opens with its QR code.
        await Expect(page.GetByTestId("create-instance")).ToHaveCountAsync(0);
        var qr = page.GetByTestId("qr-image");
        await Expect(qr).ToBeVisibleAsync();
        Assert.StartsWith("data:image/png;base64,", await qr.GetAttributeAsync("src"));
        await Expect(page.GetByTestId("qr-countdown")).ToContainTextAsync("Scan within");
        var row = page.GetByTestId("instance-row");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("Front desk");
        await Expect(row.GetByTestId("simulator-label")).ToHaveTextAsync("Simulator");
        await Expect(row.GetByTestId("instance-status")).ToHaveAttributeAsync("data-status", "qr");
        await Expect(page.GetByTestId("detail-country")).ToHaveTextAsync("TZ");
        if (screenshots is not null)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "instances-qr.png") });
            await page.GetByTestId("theme-toggle").ClickAsync();
            await page.WaitForTimeoutAsync(300);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "instances-qr-dark.png") });
        }

        // From here on the page must not load again: a marker on window would be lost, and so would the frame.
        await page.EvaluateAsync($"() => {{ {Marker} = 'still here'; }}");
        var navigations = 0;
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
                navigations++;
        };

        await page.Locator("[data-testid=scan-phone] input").FillAsync("+255 700 000 123");
        await page.Locator("[data-testid=scan-push-name] input").FillAsync("Duka");
        await page.GetByTestId("simulate-scan").ClickAsync();

        await Expect(page.GetByTestId("connected-as")).ToHaveTextAsync("Connected as +255700000123");
        await Expect(qr).ToHaveCountAsync(0);
        await Expect(row.GetByTestId("instance-status")).ToHaveAttributeAsync("data-status", "connected");
        await Expect(row.GetByTestId("instance-phone")).ToHaveTextAsync("+255700000123");
        await Expect(row.GetByTestId("instance-push-name")).ToHaveTextAsync("Duka");

        // A network drop, then the automatic reconnect a second later, which only the live events bring to the page.
        // A mutation observer records every status the panel shows, so the short disconnected spell cannot be missed.
        await page.EvaluateAsync("""
            () => {
                window.__wbStatuses = [];
                const record = () => {
                    const chip = document.querySelector('[data-testid=instance-detail] [data-testid=instance-status]');
                    const status = chip && chip.getAttribute('data-status');
                    const seen = window.__wbStatuses;
                    if (status && seen[seen.length - 1] !== status) seen.push(status);
                };
                record();
                new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
            }
            """);
        await page.GetByTestId("drop-connection").ClickAsync();
        await page.WaitForFunctionAsync("""
            () => {
                const seen = window.__wbStatuses;
                const dropped = seen.indexOf('disconnected');
                return dropped >= 0 && seen.indexOf('connected', dropped) > dropped;
            }
            """);
        await Expect(page.GetByTestId("connected-as")).ToHaveTextAsync("Connected as +255700000123");
        await Expect(row.GetByTestId("instance-status")).ToHaveAttributeAsync("data-status", "connected");

        if (screenshots is not null)
        {
            await page.WaitForTimeoutAsync(500);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "instances-dark.png") });
            await page.GetByTestId("theme-toggle").ClickAsync();
            await page.WaitForTimeoutAsync(300);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "instances.png") });
        }

        Assert.Equal("still here", await page.EvaluateAsync<string>($"() => {Marker}"));
        Assert.Equal(0, navigations);
        Assert.EndsWith("/instances", page.Url);
    }
}
