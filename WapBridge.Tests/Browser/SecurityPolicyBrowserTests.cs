using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>
/// The dashboard, the API reference and the job dashboard work under their Content-Security-Policies without a single
/// violation, and media a WhatsApp contact sends can be looked at without running as a page of the dashboard.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SecurityPolicyBrowserTests
{
    private static readonly byte[] TinyJpeg = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=");

    // What a hostile contact sends as a "document": the page would read the Admin's session data and say so.
    private const string HostileHtml = "<!doctype html><title>owned</title><script>document.title = 'script ran'; alert(document.cookie)</script>";
    private const string HostileSvg = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(document.domain)\"><script>alert(1)</script></svg>";

    [Fact]
    public async Task Main_pages_run_under_the_content_security_policy_and_hostile_media_never_runs()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 }, acceptDownloads: true);
        var page = browserPage.Page;
        var dialogs = new List<string>();
        page.Context.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };

        await DashboardAccount.RegisterAsync(page, "admin@example.com", "Correct-Horse-42", "Policy Test Ltd");

        // A connected simulator instance that received a photo, an SVG and an HTML page from a contact, as Baileys would
        // hand them over: with whatever type the sender chose and no file name.
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer!.Id, "Shop phone", "simulator", "TZ");
        var network = app.Services.GetRequiredService<SimulatorNetwork>();
        await network.ScanAsync(instance.InstanceId, "255700111222", "Shop");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await instances.GetAsync(customer.Id, instance.InstanceId)).Status != InstanceState.Connected)
        {
            Assert.True(DateTime.UtcNow < deadline, "the instance never connected");
            await Task.Delay(50);
        }
        await InjectAsync(network, instance.InstanceId, TinyJpeg, "image/jpeg", "Photo of the shelf");
        await InjectAsync(network, instance.InstanceId, Encoding.UTF8.GetBytes(HostileSvg), "image/svg+xml", "Vector logo");
        await InjectAsync(network, instance.InstanceId, Encoding.UTF8.GetBytes(HostileHtml), "text/html", "Web page");

        // Every dashboard page, loaded in full (scripts, styles, the circuit's WebSocket).
        foreach (var path in new[] { "/", "/instances", "/messages", "/campaigns", "/settings", "/admin" })
        {
            await page.GotoAsync(path);
            await DashboardAccount.WaitForInteractiveAsync(page);
        }

        // The photo previews in the message drawer.
        await DashboardAccount.NavigateAsync(page, "/messages");
        var photo = page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("Photo of the shelf") });
        await photo.ClickAsync();
        await Expect(page.GetByTestId("media-image")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('[data-testid=media-image]'); return i && i.complete && i.naturalWidth > 0; }");
        await page.GetByTestId("close-detail").ClickAsync();

        // The SVG gets no preview, only a download link.
        await page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("Vector logo") }).ClickAsync();
        await Expect(page.GetByTestId("media-download")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("media-image")).ToHaveCountAsync(0);
        var svgLink = await page.GetByTestId("media-download").GetAttributeAsync("href");
        await page.GetByTestId("close-detail").ClickAsync();

        await page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("Web page") }).ClickAsync();
        var htmlLink = await page.GetByTestId("media-download").GetAttributeAsync("href");
        await page.GetByTestId("close-detail").ClickAsync();

        // Opened directly (a link in a mail, a new tab), the HTML and the SVG are downloads: nothing of theirs runs.
        foreach (var link in new[] { htmlLink!, svgLink! })
        {
            var download = await page.RunAndWaitForDownloadAsync(async () =>
            {
                try
                {
                    await page.GotoAsync(link);
                }
                catch (PlaywrightException e) when (e.Message.Contains("Download is starting", StringComparison.Ordinal)
                                                    || e.Message.Contains("ERR_ABORTED", StringComparison.Ordinal))
                {
                }
            });
            Assert.Equal("media", download.SuggestedFilename);
        }
        Assert.NotEqual("script ran", await page.TitleAsync());

        // The API reference and the job dashboard keep working under their own policies.
        await page.GotoAsync("/api-reference/");
        await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "WapBridge API" }).First).ToBeVisibleAsync();
        await page.GotoAsync("/hangfire");
        await Expect(page.GetByText("WapBridge jobs").First).ToBeVisibleAsync();
        await Expect(page.Locator("#realtimeGraph, #stats").First).ToBeAttachedAsync();
        await page.GotoAsync("/hangfire/recurring");
        await Expect(page.GetByText("Recurring jobs").First).ToBeVisibleAsync();

        Assert.Empty(dialogs);
        Assert.True(browserPage.CspViolations.Count == 0, "blocked by the Content-Security-Policy:\n" + string.Join("\n", browserPage.CspViolations));
    }

    private static Task<string> InjectAsync(SimulatorNetwork network, string instanceId, byte[] data, string mimeType, string caption) =>
        network.InjectInboundAsync(instanceId, new SimulatedInbound("255755123456", null, null, new EngineMedia(data, mimeType, null), caption));
}
