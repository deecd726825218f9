using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The dark theme is remembered per browser and painted from the first byte of the next page, without a light flash.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ThemeBrowserTests
{
    private const string BackgroundScript = "() => getComputedStyle(document.body).backgroundColor";

    [Fact]
    public async Task Dark_mode_survives_a_reload_and_is_in_the_server_rendered_page()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app);
        var page = browserPage.Page;
        await DashboardAccount.RegisterAsync(page, "theme@example.com", "Correct-Horse-42", "Theme Ltd");

        var light = await page.EvaluateAsync<string>(BackgroundScript);
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.Locator("body")).Not.ToHaveCSSAsync("background-color", light);
        var dark = await page.EvaluateAsync<string>(BackgroundScript);

        await page.ReloadAsync();
        await DashboardAccount.WaitForInteractiveAsync(page);
        Assert.Equal(dark, await page.EvaluateAsync<string>(BackgroundScript));
        await page.WaitForTimeoutAsync(500); // the system-preference probe used to switch back to light here
        Assert.Equal(dark, await page.EvaluateAsync<string>(BackgroundScript));

        // What the browser paints before any script runs: the prerendered page alone, with the same cookies.
        await using (var noScript = await page.Context.Browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = app.ServerAddress.ToString(), JavaScriptEnabled = false }))
        {
            await noScript.AddCookiesAsync((await page.Context.CookiesAsync()).Select(c => new Cookie
            {
                Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Expires = c.Expires, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite,
            }));
            var first = await noScript.NewPageAsync();
            await first.GotoAsync("/");
            Assert.Equal(dark, await first.EvaluateAsync<string>(BackgroundScript));
        }

        // Switching back is remembered too.
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", light);
        await page.ReloadAsync();
        await DashboardAccount.WaitForInteractiveAsync(page);
        await page.WaitForTimeoutAsync(500);
        Assert.Equal(light, await page.EvaluateAsync<string>(BackgroundScript));
    }
}
