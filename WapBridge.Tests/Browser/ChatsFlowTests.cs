using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The Chats page through a real browser on a simulator instance: answering a customer without any other tool.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ChatsFlowTests
{
    private static readonly string? ScreenshotDir = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");

    [Fact]
    public async Task An_inbound_message_appears_live_a_reply_quoting_it_walks_to_read_and_the_page_works_on_a_phone()
    {
        BrowserSession.RequireChromium();
        // Receipts slow enough to watch the ticks move: delivered after 2 s, read after 5 s.
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Simulator:DeliveredAfter"] = "00:00:02",
            ["WapBridge:Engines:Simulator:ReadAfter"] = "00:00:05",
        }));
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, "chats@example.com", "Correct-Horse-42", "Chats Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, "Shop phone", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, "255700111222", "Shop");
        await AccessibilityTests.WaitForAsync(async () => (await instances.GetAsync(customer.Id, instance.InstanceId)).Status == InstanceState.Connected);
        var key = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(customer.Id, "chats test", null);
        using var api = app.CreateApiClient(key.AuthorizationHeader);

        await DashboardAccount.NavigateAsync(page, "/chats");
        await Expect(page.GetByTestId("no-chats")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => window.__noReload = true");

        // A simulated contact writes: the conversation appears by itself, unread.
        (await api.CallAsync("wap_bridge.api.simulator.inbound_message", new
        {
            instance_id = instance.InstanceId, from_number = "+255755222333", message = "Do you have size 42?", push_name = "Amina",
        })).EnsureOk();
        var item = page.Locator("[data-testid=chat-item][data-chat='255755222333']");
        await Expect(item).ToContainTextAsync("Amina", new() { Timeout = 15_000 });
        await Expect(item.GetByTestId("chat-unread")).ToHaveTextAsync("1");
        await Expect(item.GetByTestId("chat-preview")).ToHaveTextAsync("Do you have size 42?");

        // Opened, it is read; the reply quotes the question.
        await item.ClickAsync();
        var question = page.GetByTestId("chat-message").Filter(new() { HasText = "Do you have size 42?" });
        await Expect(question).ToHaveCountAsync(1);
        await Expect(item.GetByTestId("chat-unread")).ToHaveCountAsync(0);
        await question.GetByTestId("chat-reply").ClickAsync();
        await Expect(page.GetByTestId("composer-reply")).ToContainTextAsync("Do you have size 42?");
        await page.Locator("[data-testid=composer-text] textarea").First.FillAsync("Yes, in black and brown");
        await page.GetByTestId("composer-send").ClickAsync();

        var reply = page.GetByTestId("chat-message").Filter(new() { HasText = "Yes, in black and brown" });
        await Expect(reply).ToHaveCountAsync(1);
        await Expect(reply).ToHaveAttributeAsync("data-direction", "outbound");
        await Expect(reply.GetByTestId("chat-quote")).ToContainTextAsync("Do you have size 42?");
        await Expect(page.GetByTestId("composer-reply")).ToHaveCountAsync(0);
        // The ticks walk on without a reload: sent or delivered first, then read.
        await Expect(reply.GetByTestId("chat-ticks")).ToHaveAttributeAsync("data-status", "read", new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "chats.png") });

        var violations = await AccessibilityTests.AxeAsync(page, "chats");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));

        // On a phone: one column, the thread with a way back to the list, nothing wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.GetByTestId("chat-list")).ToBeHiddenAsync();
        await Expect(reply).ToBeVisibleAsync();
        await FitsAsync(page, "the open chat");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "chats-phone-thread.png") });
        await page.GetByTestId("chat-back").ClickAsync();
        await Expect(page.GetByTestId("chat-list")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("chat-thread")).ToHaveCountAsync(0);
        await FitsAsync(page, "the chat list");
        var phoneViolations = await AccessibilityTests.AxeAsync(page, "chats on a phone");
        Assert.True(phoneViolations.Count == 0, string.Join(Environment.NewLine, phoneViolations));
    }

    /// <summary>Nothing wider than the phone, once the layout settled (the navigation drawer folds away after the resize).</summary>
    private static async Task FitsAsync(IPage page, string what)
    {
        try
        {
            await page.WaitForFunctionAsync("() => document.documentElement.scrollWidth <= 390", null, new() { Timeout = 5_000 });
        }
        catch (PlaywrightException)
        {
            Assert.Fail($"{what} is {await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth")} px wide on a 390 px screen");
        }
    }
}
