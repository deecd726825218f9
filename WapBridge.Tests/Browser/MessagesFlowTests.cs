using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The messages page and the webhook panel through a real browser, on a simulator instance.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MessagesFlowTests
{
    private const string Email = "sender@example.com";
    private const string Password = "Correct-Horse-42";

    /// <summary>Set to a folder to keep screenshots of the pages (e.g. WAPBRIDGE_SCREENSHOTS=/tmp).</summary>
    private static readonly string? ScreenshotDir = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");

    [Fact]
    public async Task A_test_message_sent_from_the_dialog_appears_and_its_status_moves_without_a_reload()
    {
        BrowserSession.RequireChromium();
        // Receipts slow enough to watch the chip move: sent, then delivered after 2 s, read after 6 s.
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Simulator:DeliveredAfter"] = "00:00:02",
            ["WapBridge:Engines:Simulator:ReadAfter"] = "00:00:06",
        }));
        await app.InitializeAsync();

        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, Email, Password, "Messages Test Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);

        // A connected simulator instance, made as the API would.
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, "Shop phone", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, "255700111222", "Shop");
        await WaitForAsync(async () => (await instances.GetAsync(customer.Id, instance.InstanceId)).Status == InstanceState.Connected);

        // An older message already in the log, so the list is not empty.
        await app.Services.GetRequiredService<MessageService>().SendAsync(new SendRequest(customer.Id, instance.InstanceId, null, "+255755000001",
            "Earlier message", null, null, null, null, MessageSources.Api, TimeSpan.FromSeconds(5)));

        await DashboardAccount.NavigateAsync(page, "/messages");
        await Expect(page.GetByTestId("messages-table")).ToContainTextAsync("Earlier message");
        // A marker that a reload would wipe.
        await page.EvaluateAsync("() => window.__noReload = true");

        var open = page.GetByTestId("open-send");
        await Expect(open).ToBeEnabledAsync();
        await open.ClickAsync();
        var dialog = page.GetByTestId("send-dialog");
        await Expect(dialog).ToBeVisibleAsync();

        // A bad number: the error sits next to the number field and nothing is sent.
        await page.Locator("[data-testid=send-to] input").FillAsync("12ab");
        await page.Locator("[data-testid=send-text] textarea").First.FillAsync("Hello from the browser");
        await page.GetByTestId("send-submit").ClickAsync();
        // In the words of the form: its label, not the API's argument name.
        await Expect(page.Locator("[data-testid=send-to]")).ToContainTextAsync("Phone number is not a valid phone number");
        await Expect(page.Locator("[data-testid=send-to]")).Not.ToContainTextAsync("to_number");
        await Expect(page.GetByTestId("send-outcome")).ToHaveCountAsync(0);

        // A national number a digit short (the instance's country is TZ): the reason, in words.
        await page.Locator("[data-testid=send-to] input").FillAsync("075520010");
        await page.GetByTestId("send-submit").ClickAsync();
        await Expect(page.Locator("[data-testid=send-to]")).ToContainTextAsync("too short for Tanzania (+255)");
        await Expect(page.GetByTestId("send-outcome")).ToHaveCountAsync(0);

        await page.Locator("[data-testid=send-to] input").FillAsync("+255 755 123 456");
        await page.GetByTestId("send-submit").ClickAsync();
        await Expect(page.GetByTestId("send-outcome")).ToBeVisibleAsync();
        var status = (await page.GetByTestId("send-outcome-status").InnerTextAsync()).Trim();
        Assert.Contains(status, new[] { "queued", "sending", "sent", "delivered", "read" });
        var id = (await page.GetByTestId("send-outcome-id").InnerTextAsync()).Trim();
        Assert.Contains("255755123456", id);
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "messages-send-dialog.png") });
        await page.GetByTestId("send-close").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);

        // The new message is in the list and its chip moves on by itself: past queued, up to read.
        var row = page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("Hello from the browser") });
        await Expect(row).ToHaveCountAsync(1);
        var chip = row.GetByTestId("message-status");
        var first = (await chip.InnerTextAsync()).Trim();
        Assert.NotEqual("read", first);
        await Expect(chip).Not.ToHaveTextAsync("queued");
        await Expect(chip).ToHaveTextAsync("read");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");

        // The detail drawer shows the whole record.
        await row.ClickAsync();
        var detail = page.GetByTestId("message-detail");
        await Expect(detail).ToBeVisibleAsync();
        await Expect(page.GetByTestId("detail-id")).ToHaveTextAsync(id);
        await Expect(page.GetByTestId("detail-source")).ToHaveTextAsync("dashboard");
        await Expect(page.GetByTestId("detail-to")).ToHaveTextAsync("255755123456");
        await Expect(page.GetByTestId("detail-read")).ToContainTextAsync("UTC");
        if (ScreenshotDir is not null)
        {
            await page.WaitForTimeoutAsync(600); // let the drawer finish sliding in
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "messages-detail.png") });
        }
        await page.GetByTestId("close-detail").ClickAsync();
        await Expect(detail).ToHaveCountAsync(0);

        // Filters run on the server: searching narrows the list.
        await page.Locator("[data-testid=filter-search] input").FillAsync("Earlier");
        await Expect(page.GetByTestId("messages-table")).Not.ToContainTextAsync("Hello from the browser");
        await Expect(page.GetByTestId("messages-table")).ToContainTextAsync("Earlier message");
        await page.GetByTestId("clear-filters").ClickAsync();
        await Expect(page.GetByTestId("messages-table")).ToContainTextAsync("Hello from the browser");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "messages.png"), FullPage = true });

        // The message really went out from the dashboard.
        var stored = await app.Services.GetRequiredService<MessageLog>().GetAsync(customer.Id, id);
        Assert.Equal(MessageSources.Dashboard, stored.Source);
        Assert.Equal("Hello from the browser", stored.Body);
    }

    [Fact]
    public async Task Webhook_panel_saves_a_url_sends_a_test_event_and_lists_the_delivery()
    {
        BrowserSession.RequireChromium();
        await using var receiver = await Dashboard.WebhookReceiver.StartAsync(200);
        await using var app = new WapBridgeApp(kestrel: true, settings: new Dictionary<string, string?>
        {
            ["WapBridge:Webhooks:AllowLoopbackTargets"] = "true",
        });
        await app.InitializeAsync();

        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, Email, Password, "Messages Test Ltd");
        await DashboardAccount.NavigateAsync(page, "/settings");
        var save = page.GetByTestId("save-webhook");
        await Expect(save).ToBeEnabledAsync();

        await page.Locator("[data-testid=webhook-url] input").FillAsync(receiver.Url);
        await page.Locator("[data-testid='event-message.ack'] input").CheckAsync();
        await save.ClickAsync();
        await Expect(page.GetByTestId("webhook-enabled")).ToBeVisibleAsync();

        await page.GetByTestId("generate-secret").ClickAsync();
        await Expect(page.GetByTestId("generated-secret")).ToBeVisibleAsync();

        await page.GetByTestId("send-test-event").ClickAsync();
        await Expect(page.GetByTestId("test-status")).ToHaveTextAsync("200");
        var row = page.Locator("[data-testid=deliveries-table] tbody tr").First;
        await Expect(row.GetByTestId("delivery-event")).ToHaveTextAsync("test");
        await Expect(row.GetByTestId("delivery-state")).ToHaveTextAsync("delivered");
        Assert.Single(receiver.Requests);

        await row.GetByTestId("replay-delivery").ClickAsync();
        await Expect(row.GetByTestId("delivery-attempts")).ToHaveTextAsync("2");
        Assert.Equal(2, receiver.Requests.Count);

        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        var settings = await app.Services.GetRequiredService<WebhookSettingsService>().GetAsync(customer!.Id, null);
        Assert.Equal(receiver.Url, settings.Url);
        Assert.Equal([WebhookEvents.Message, WebhookEvents.MessageAck], settings.Events);
        Assert.True(settings.SecretSet);

        if (ScreenshotDir is not null)
        {
            // A tall viewport rather than a full-page capture, which would paint the fixed app bar mid-page.
            await page.SetViewportSizeAsync(1400, 1350);
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "settings-webhooks.png") });
        }
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
