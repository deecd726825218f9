using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>Headless Chromium from the distribution package; never a downloaded browser build.</summary>
public static class BrowserSession
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Skips the test when Chromium is missing, unless TEST_REQUIRE_BROWSER=1 makes that a failure.</summary>
    public static void RequireChromium()
    {
        if (File.Exists(ChromiumPath))
            return;
        if (Environment.GetEnvironmentVariable("TEST_REQUIRE_BROWSER") == "1")
            Assert.Fail($"Chromium not installed at {ChromiumPath} and TEST_REQUIRE_BROWSER=1: apt-get install chromium");
        Assert.Skip("Chromium not installed: apt-get install chromium");
    }

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });

    /// <summary>
    /// A page on <paramref name="app"/> (started with <c>kestrel: true</c>) in a fresh browser, with the 20 s timeouts every
    /// browser test uses; disposing it closes the browser.
    /// </summary>
    public static async Task<BrowserPage> OpenAsync(WapBridgeApp app, ViewportSize? viewport = null, bool? acceptDownloads = null)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.ServerAddress.ToString(),
            ViewportSize = viewport,
            AcceptDownloads = acceptDownloads,
        });
        var violations = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // Chromium reports every blocked script, style, image or connection on the console.
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                violations.Enqueue($"{message.Page?.Url}: {message.Text}");
        };
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        SetDefaultExpectTimeout(20_000);
        return new BrowserPage(playwright, browser, page, violations);
    }
}

/// <summary>A browser page and what it needs to stay open.</summary>
public sealed class BrowserPage(IPlaywright playwright, IBrowser browser, IPage page, IReadOnlyCollection<string> cspViolations) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    /// <summary>What the Content-Security-Policy blocked so far, on any page of this browser: "url: console message".</summary>
    public IReadOnlyCollection<string> CspViolations { get; } = cspViolations;

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
