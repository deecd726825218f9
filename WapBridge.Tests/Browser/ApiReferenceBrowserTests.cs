using Deque.AxeCore.Playwright;
using System.Collections.Concurrent;
using System.Net;
using Microsoft.Playwright;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>Issue 15 item 4: the API reference is served whole by this server, so it works on a machine without internet.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiReferenceBrowserTests
{
    [Fact]
    public async Task The_reference_page_loads_with_every_outside_request_blocked_and_makes_none()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;
        var outside = new ConcurrentQueue<string>();
        await page.Context.RouteAsync("**/*", async route =>
        {
            var uri = new Uri(route.Request.Url);
            if (uri.Scheme is "data" or "blob" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)))
            {
                await route.ContinueAsync();
                return;
            }
            outside.Enqueue(route.Request.Url);
            await route.AbortAsync();
        });

        await page.GotoAsync("/api-reference/");
        await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "WapBridge API" }).First).ToBeVisibleAsync();
        // The token scheme is applied: the page's requests carry the Authorization header.
        await Expect(page.Locator("code", new PageLocatorOptions { HasText = "--header 'Authorization:" }).First).ToBeAttachedAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new PageWaitForLoadStateOptions { Timeout = 90_000 });

        Assert.True(outside.IsEmpty, "the reference page asked for:\n" + string.Join("\n", outside.Distinct()));
        Assert.True(browserPage.CspViolations.Count == 0, "blocked by the Content-Security-Policy:\n" + string.Join("\n", browserPage.CspViolations));
    }

    [Fact]
    public async Task The_reference_page_has_no_serious_or_critical_axe_violations()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;

        await page.GotoAsync("/api-reference/");
        await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "WapBridge API" }).First).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new PageWaitForLoadStateOptions { Timeout = 90_000 });

        var results = await page.RunAxe();
        var found = results.Violations.Where(v => v.Impact is "serious" or "critical")
            .SelectMany(v => v.Nodes.Select(n => $"{v.Id} ({v.Impact}) {v.Help} at {n.Target} {n.Html} {string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(c => c.Message))}"))
            .ToList();
        Assert.True(found.Count == 0, "axe-core found serious or critical violations:\n" + string.Join("\n", found));
    }
}
