using Microsoft.Playwright;

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
}
