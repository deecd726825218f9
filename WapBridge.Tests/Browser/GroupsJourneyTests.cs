using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>
/// Groups from the dashboard in a real browser (Kestrel, simulator, headless Chromium): a group made on the instance page
/// with another of the customer's instances in it, a participant added, a message sent from Chats, the other instance's
/// reply shown in the thread with its author; and the Check numbers tool, each checked with axe-core and on a phone.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class GroupsJourneyTests
{
    private static readonly string? ScreenshotDir = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");

    private const string ShopPhone = "255700111222";
    private const string DeskPhone = "255700333444";

    [Fact]
    public async Task A_group_made_on_the_instance_page_gets_a_message_from_Chats_and_shows_the_other_instances_reply_with_its_author()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, "groups@example.com", "Correct-Horse-42", "Groups Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);
        var shop = await ConnectAsync(app, customer.Id, "Shop phone", ShopPhone, "Shop");
        var desk = await ConnectAsync(app, customer.Id, "Front desk", DeskPhone, "Desk Amina");

        await DashboardAccount.NavigateAsync(page, "/instances");
        await page.Locator($"[data-testid=instance-row][data-instance='{shop}']").ClickAsync();
        var panel = page.GetByTestId("groups-panel");
        await Expect(panel.GetByTestId("no-groups")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => window.__noReload = true");

        // A new group with the other instance's number in it; the dialog first names what is missing by its label.
        await panel.GetByTestId("new-group").ClickAsync();
        var dialog = page.GetByTestId("new-group-dialog");
        await Expect(page.Locator("[data-testid=new-group-subject] input")).ToBeVisibleAsync();
        await page.GetByTestId("create-group").ClickAsync();
        await Expect(page.GetByTestId("new-group-error")).ToHaveTextAsync("Subject is required");
        var dialogViolations = await AccessibilityTests.AxeAsync(page, "new group dialog");
        Assert.True(dialogViolations.Count == 0, string.Join(Environment.NewLine, dialogViolations));
        await page.Locator("[data-testid=new-group-subject] input").FillAsync("Opening hours");
        await page.Locator("[data-testid=new-group-participants] textarea").First.FillAsync("+" + DeskPhone);
        await page.GetByTestId("create-group").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);

        var row = panel.GetByTestId("group-row");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("group-subject")).ToHaveTextAsync("Opening hours");
        await Expect(row.GetByTestId("group-size")).ToHaveTextAsync("2 members");
        await Expect(row.GetByTestId("group-role")).ToHaveTextAsync("Super admin");
        var group = await row.GetAttributeAsync("data-group");
        Assert.True(WhatsAppNumbers.IsGroupId(group), $"'{group}' is not a group id");

        // Another participant: a simulated contact, added; the outcome said in words.
        await row.GetByTestId("add-participant").ClickAsync();
        await row.Locator("[data-testid=add-numbers] textarea").First.FillAsync("+255 755 000 501");
        await row.GetByTestId("add-submit").ClickAsync();
        await Expect(row.GetByTestId("participant-outcome")).ToHaveTextAsync("+255755000501: added");
        await Expect(row.GetByTestId("group-size")).ToHaveTextAsync("3 members");

        // The invite link is shown as well as copied (headless Chromium gives no clipboard permission).
        await row.GetByTestId("copy-invite").ClickAsync();
        await Expect(row.GetByTestId("invite-link-url")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^https://chat\\.whatsapp\\.com/\\w+$"));
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "instance-groups.png") });
        var panelViolations = await AccessibilityTests.AxeAsync(page, "instance groups panel");
        Assert.True(panelViolations.Count == 0, string.Join(Environment.NewLine, panelViolations));

        // Chats: the group's thread, named by its subject; a message sent to it.
        await row.GetByTestId("group-chat").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/chats/{shop}/{Uri.EscapeDataString(group!)}$"));
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync("Opening hours");
        await page.Locator("[data-testid=composer-text] textarea").First.FillAsync("We open at 9 tomorrow");
        await page.GetByTestId("composer-send").ClickAsync();
        var sent = page.GetByTestId("chat-message").Filter(new() { HasText = "We open at 9 tomorrow" });
        await Expect(sent).ToHaveAttributeAsync("data-direction", "outbound");
        await Expect(sent.GetByTestId("chat-ticks")).Not.ToHaveAttributeAsync("data-status", "failed");
        await Expect(page.Locator($"[data-testid=chat-item][data-chat='{group}'] [data-testid=chat-name]")).ToHaveTextAsync("Opening hours");

        // The other instance got it in the same group, and answers there.
        var messages = app.Services.GetRequiredService<MessageService>();
        await AccessibilityTests.WaitForAsync(async () => (await app.Services.GetRequiredService<ChatQueries>()
            .ListAsync(customer.Id, desk, Paging.From(10, 0))).Data.Any(c => c.Chat == group), seconds: 15);
        await messages.SendAsync(new SendRequest(customer.Id, desk, null, group, "Thanks, I will tell the staff", null, null, null, null,
            MessageSources.Api, TimeSpan.Zero));

        var reply = page.GetByTestId("chat-message").Filter(new() { HasText = "Thanks, I will tell the staff" });
        await Expect(reply).ToHaveAttributeAsync("data-direction", "inbound", new() { Timeout = 15_000 });
        await Expect(reply.GetByTestId("chat-author")).ToHaveTextAsync("Desk Amina · +" + DeskPhone);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "chats-group.png") });
        var threadViolations = await AccessibilityTests.AxeAsync(page, "group thread");
        Assert.True(threadViolations.Count == 0, string.Join(Environment.NewLine, threadViolations));

        // On a phone: the groups panel fits and passes axe.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/instances");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await page.Locator($"[data-testid=instance-row][data-instance='{shop}']").ClickAsync();
        await Expect(page.GetByTestId("groups-panel").GetByTestId("group-row")).ToHaveCountAsync(1);
        await FitsAsync(page, "the instance page with its groups");
        await page.GetByTestId("groups-panel").GetByTestId("copy-invite").ScrollIntoViewIfNeededAsync();
        await Expect(page.GetByTestId("groups-panel").GetByTestId("copy-invite")).ToBeInViewportAsync();
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "phone-instance-groups.png"), FullPage = true });
        var phoneViolations = await AccessibilityTests.AxeAsync(page, "instance groups panel on a phone");
        Assert.True(phoneViolations.Count == 0, string.Join(Environment.NewLine, phoneViolations));
    }

    [Fact]
    public async Task Check_numbers_answers_a_table_exports_it_as_CSV_and_works_on_a_phone()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 }, acceptDownloads: true);
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, "checks@example.com", "Correct-Horse-42", "Checks Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);
        await ConnectAsync(app, customer.Id, "Shop phone", ShopPhone, "Shop");

        await DashboardAccount.NavigateAsync(page, "/check-numbers");
        await page.Locator("[data-testid=check-numbers-input] textarea").First.FillAsync("+255 755 000 601, 0755000602\nnot a number\n+255755009999");
        await page.GetByTestId("check-submit").ClickAsync();
        await Expect(page.GetByTestId("check-verdict")).ToHaveCountAsync(4);
        Assert.Equal(["yes", "yes", "invalid", "no"], await page.GetByTestId("check-verdict").EvaluateAllAsync<string[]>("e => e.map(v => v.dataset.verdict)"));
        await Expect(page.GetByTestId("check-summary")).ToHaveTextAsync("2 of 4 on WhatsApp");
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "check-numbers.png") });
        var violations = await AccessibilityTests.AxeAsync(page, "check numbers");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("check-export").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename);
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("number,on_whatsapp,reason,lid", lines[0]);
        Assert.Matches(@"^\+255755000601,yes,,\d{15}@lid$", lines[1]);
        Assert.StartsWith("not a number,invalid,", lines[3]);
        Assert.Equal("+255755009999,no,,", lines[4]);

        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.GetByTestId("check-verdict")).ToHaveCountAsync(4);
        await FitsAsync(page, "check numbers");
        await page.GetByTestId("check-export").ScrollIntoViewIfNeededAsync();
        await Expect(page.GetByTestId("check-export")).ToBeInViewportAsync();
        if (ScreenshotDir is not null)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "phone-check-numbers.png"), FullPage = true });
        var phoneViolations = await AccessibilityTests.AxeAsync(page, "check numbers on a phone");
        Assert.True(phoneViolations.Count == 0, string.Join(Environment.NewLine, phoneViolations));
    }

    private static async Task<string> ConnectAsync(WapBridgeApp app, int customerId, string name, string phone, string pushName)
    {
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customerId, name, "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, phone, pushName);
        await AccessibilityTests.WaitForAsync(async () => (await instances.GetAsync(customerId, instance.InstanceId)).Status == InstanceState.Connected);
        return instance.InstanceId;
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
