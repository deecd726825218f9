using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>When the server goes away, the dashboard says so in WapBridge's words, not Blazor's default box.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReconnectBoxBrowserTests
{
    [Fact]
    public async Task Losing_the_server_shows_the_wapbridge_reconnect_box()
    {
        BrowserSession.RequireChromium();
        var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app);
        var page = browserPage.Page;
        await DashboardAccount.RegisterAsync(page, "reconnect@example.com", "Correct-Horse-42", "Reconnect Ltd");
        var box = page.GetByTestId("reconnect-box");
        await Expect(box).ToBeHiddenAsync();

        try
        {
            await app.DisposeAsync();
        }
        catch (Exception e) when (e is OperationCanceledException || e is AggregateException { InnerExceptions: var inner } && inner.All(x => x is OperationCanceledException))
        {
            // On a loaded machine the host's stop can outlast its timeout while the browser still holds the circuit;
            // the server is gone either way, and what is checked here is what the browser shows then.
        }
        await Expect(box).ToBeVisibleAsync();
        await Expect(box).ToContainTextAsync("WapBridge lost its connection to the server");
        Assert.Equal(0, await page.Locator("#components-reconnect-modal:not([data-testid=reconnect-box])").CountAsync());
    }
}
