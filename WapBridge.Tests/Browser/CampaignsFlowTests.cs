using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The campaigns page through a real browser: CSV upload and mapping, preview, start, pause, resume, completion, export.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CampaignsFlowTests
{
    private const string Email = "campaigner@example.com";
    private const string Password = "Correct-Horse-42";

    /// <summary>Set to a folder to keep a screenshot of the page (e.g. WAPBRIDGE_SCREENSHOTS=/tmp writes /tmp/campaigns.png).</summary>
    private static readonly string? ScreenshotDir = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");

    [Fact]
    public async Task A_csv_campaign_is_previewed_started_paused_resumed_and_completes_live()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();

        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1500, Height = 950 }, acceptDownloads: true);
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, Email, Password, "Campaign Test Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);

        // A connected simulator instance, made as the API would.
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, "Shop phone", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, "255700333444", "Shop");
        await WaitForAsync(async () => (await instances.GetAsync(customer.Id, instance.InstanceId)).Status == InstanceState.Connected);

        // A full load, so the circuit starts on this page (a menu click racing the circuit's start after sign-up can land back on the overview).
        await page.GotoAsync("/campaigns");
        await Expect(page.GetByTestId("no-campaigns")).ToBeVisibleAsync();
        // A marker that a reload would wipe.
        await page.EvaluateAsync("() => window.__noReload = true");

        var open = page.GetByTestId("new-campaign-button");
        await Expect(open).ToBeEnabledAsync();
        await open.ClickAsync();
        var form = page.GetByTestId("new-campaign");
        await Expect(form).ToBeVisibleAsync();

        await page.Locator("[data-testid=campaign-name] input").FillAsync("Browser promo");
        await page.Locator("[data-testid=campaign-message] textarea").First.FillAsync("Hello {{name}}, welcome to {{city}}!");

        const string csv = "Name,Contact,City\r\nAsha,0755000101,\"Arusha, TZ\"\r\nJuma,+255755000102,Moshi\r\nNeema,0755 000 103,Dodoma\r\n";
        await form.Locator("input[type=file]").SetInputFilesAsync(new FilePayload
        {
            Name = "customers.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv),
        });
        await Expect(page.GetByTestId("csv-file-name")).ToContainTextAsync("customers.csv");
        await Expect(page.GetByTestId("preview-item")).ToHaveCountAsync(3);

        // Map the columns by hand: the name column as numbers makes every row invalid, the contact column puts them right.
        await ChooseNumberColumnAsync(page, "Name");
        await Expect(page.GetByTestId("draft-invalid")).ToHaveAttributeAsync("data-value", "3");
        await Expect(page.GetByTestId("preview-item")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("start-campaign")).ToBeDisabledAsync();
        await ChooseNumberColumnAsync(page, "Contact");
        await Expect(page.GetByTestId("preview-item")).ToHaveCountAsync(3);
        await Expect(page.GetByTestId("draft-ready")).ToHaveAttributeAsync("data-value", "3");
        await Expect(page.GetByTestId("preview-text").Nth(0)).ToHaveTextAsync("Hello Asha, welcome to Arusha, TZ!");
        await Expect(page.GetByTestId("preview-text").Nth(2)).ToHaveTextAsync("Hello Neema, welcome to Dodoma!");
        await Expect(page.GetByTestId("preview-number").Nth(2)).ToHaveTextAsync("To +255755000103");

        // One second apart, so there is time to pause it.
        await page.Locator("[data-testid=throttle-panel] .mud-expand-panel-header").ClickAsync();
        await page.Locator("[data-testid=throttle-min] input").FillAsync("1");
        await page.Locator("[data-testid=throttle-max] input").FillAsync("1");
        await Expect(page.Locator("[data-testid=throttle-panel] .mud-expand-panel-header")).ToContainTextAsync("1–1 s apart");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "campaigns-new.png") });

        await page.GetByTestId("start-campaign").ClickAsync();
        await Expect(form).ToHaveCountAsync(0);
        var row = page.GetByTestId("campaign-row");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("campaign-name")).ToHaveTextAsync("Browser promo");

        await row.GetByTestId("pause-campaign").ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-status", "paused");
        await Expect(row.GetByTestId("paused-reason")).ToHaveTextAsync("paused by the owner");
        var status = app.Services.GetRequiredService<CampaignService>();
        var code = await row.GetAttributeAsync("data-campaign");
        Assert.Equal(CampaignState.Paused, (await status.StatusAsync(customer.Id, code)).Status);
        // A send already under way when it was paused may still finish; after that, nothing more goes out.
        await page.WaitForTimeoutAsync(2500);
        var sentWhilePaused = (await row.GetByTestId("count-sent").GetAttributeAsync("data-value"))!;
        Assert.True(int.Parse(sentWhilePaused) < 3, "the campaign finished before it could be paused");
        await page.WaitForTimeoutAsync(3000);
        await Expect(row.GetByTestId("count-sent")).ToHaveAttributeAsync("data-value", sentWhilePaused);
        await Expect(row).ToHaveAttributeAsync("data-status", "paused");

        await row.GetByTestId("resume-campaign").ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-status", new Regex("running|completed"));
        // It finishes on its own: the bar and counters move without a reload.
        await Expect(row).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 30_000 });
        await Expect(row.GetByTestId("progress-percent")).ToHaveTextAsync("100 %");
        await Expect(row.GetByTestId("count-sent")).ToHaveAttributeAsync("data-value", "3");
        await Expect(row.GetByTestId("count-pending")).ToHaveAttributeAsync("data-value", "0");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");

        // The detail lists each recipient with its message id.
        await row.Locator("td").First.ClickAsync();
        var detail = page.GetByTestId("campaign-detail");
        await Expect(detail).ToBeVisibleAsync();
        await Expect(detail.GetByTestId("recipient-state")).ToHaveCountAsync(3);
        await Expect(detail.GetByTestId("recipient-message-id")).ToHaveCountAsync(3);
        await Expect(detail.GetByTestId("recipients-table")).ToContainTextAsync("name: Asha");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "campaigns.png") });

        // Export: a CSV file download, built in the browser from the results.
        var download = await page.RunAndWaitForDownloadAsync(() => detail.GetByTestId("export-csv").ClickAsync());
        Assert.Equal($"{code!.ToLowerInvariant()}-recipients.csv", download.SuggestedFilename);
        var path = await download.PathAsync();
        var lines = (await File.ReadAllTextAsync(path!)).TrimEnd().Split("\r\n");
        Assert.Equal("number,input,state,error,message_id,updated_at", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("+255755000101,0755000101,", lines[1]);
        Assert.Matches("^\\+255755000103,0755 000 103,(sent|delivered|read),,", lines[3]);

        var final = await status.StatusAsync(customer.Id, code);
        Assert.Equal((3, 0, 100.0), (final.Sent, final.Pending, final.Progress));
    }

    private static async Task ChooseNumberColumnAsync(IPage page, string header)
    {
        await page.Locator("[data-testid=csv-number-column] .mud-input-control").ClickAsync();
        var option = page.Locator(".mud-popover-open .mud-list-item", new PageLocatorOptions { HasText = header + " (e.g." });
        await option.ClickAsync();
        await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition never held");
            await Task.Delay(50);
        }
    }
}
