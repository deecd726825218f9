using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>
/// A WhatsApp Cloud API instance set up in the dashboard on a phone-sized screen against the fake Graph: the New instance
/// form, Test connection, the values to paste into Meta, the instance's panel and a chat's window. Nothing is wider than the
/// screen, and axe-core finds no serious or critical violation, in the light and the dark theme.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CloudApiBrowserTests
{
    private static readonly FakeGraphNumber Number = FakeGraph.DefaultNumber;

    [Fact]
    public async Task A_cloud_api_instance_is_set_up_and_used_on_a_390px_screen_without_axe_violations()
    {
        BrowserSession.RequireChromium();
        await using var app = new CloudApiApp(kestrel: true);
        await app.InitializeAsync();
        app.Graph.Templates.Add(FakeGraph.Template("order_update", "en", "Your order {{1}} is ready for collection at the main shop on Uhuru Street"));
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 390, Height = 844 });
        var page = browserPage.Page;
        var found = new List<string>();
        await DashboardAccount.RegisterAsync(page, "cloud@example.com", "Correct-Horse-42", "Cloud Ltd");

        await page.GotoAsync("/instances");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await page.GetByTestId("new-instance").ClickAsync();
        await page.Locator("[data-testid=create-engine] .mud-input-control").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "WhatsApp Cloud API" }).ClickAsync();
        await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
        await page.GetByLabel("Phone number ID").FillAsync(Number.PhoneNumberId);
        await page.GetByLabel("WhatsApp Business Account ID").FillAsync(Number.BusinessAccountId);
        await page.GetByLabel("Access token").FillAsync(Number.AccessToken);
        await page.GetByLabel("App secret").FillAsync(Number.AppSecret);
        await page.GetByTestId("cloudapi-test-connection").ClickAsync();
        await Expect(page.GetByTestId("cloudapi-test-result")).ToHaveAttributeAsync("data-ok", "true");
        await Expect(page.GetByTestId("cloudapi-test-name")).ToHaveTextAsync(Number.VerifiedName);
        await PhoneLayoutTests.AssertFitsAsync(page, "Cloud API form");
        await PhoneLayoutTests.AssertReachableAsync(page.GetByTestId("create-instance"));
        found.AddRange(await AccessibilityTests.AxeAsync(page, "Cloud API form"));

        await page.GetByTestId("create-instance").ClickAsync();
        await Expect(page.GetByTestId("cloudapi-created")).ToBeVisibleAsync();
        // The instance's page opens behind the dialog with the same values.
        var dialog = page.GetByTestId("create-dialog");
        await Expect(dialog.GetByTestId("cloudapi-webhook-url")).ToContainTextAsync("/webhooks/cloudapi/");
        // The gateway runs on loopback here: the dialog says Meta cannot reach it and how to set the public address.
        await Expect(dialog.GetByTestId("cloudapi-url-warning")).ToContainTextAsync("WAPBRIDGE_PublicBaseUrl");
        await PhoneLayoutTests.AssertFitsAsync(page, "Cloud API created");
        await PhoneLayoutTests.AssertReachableAsync(dialog.GetByTestId("copy-cloudapi-verify-token"));
        found.AddRange(await AccessibilityTests.AxeAsync(page, "Cloud API created"));
        await page.GetByTestId("cloudapi-setup-done").ClickAsync();

        var row = page.GetByTestId("instance-row");
        await Expect(row.GetByTestId("instance-status")).ToHaveAttributeAsync("data-status", "connected");
        var code = (await row.GetAttributeAsync("data-instance"))!;
        await Expect(page.GetByTestId("cloudapi-template-row")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("qr-panel")).ToHaveCountAsync(0);
        // The "created" snackbar's theme colours are the dashboard's everywhere, not this page's: judged once it is gone.
        await Expect(page.Locator(".mud-snackbar")).ToHaveCountAsync(0);
        await PhoneLayoutTests.AssertFitsAsync(page, "Cloud API instance");
        await PhoneLayoutTests.AssertReachableAsync(page.GetByTestId("cloudapi-replace-token"));
        await PhoneLayoutTests.AssertReachableAsync(page.GetByTestId("cloudapi-templates-refresh"));
        found.AddRange(await AccessibilityTests.AxeAsync(page, "Cloud API instance"));

        // A contact wrote 30 hours ago: the window is closed, and the composer says why a text would fail.
        await ContactWroteAsync(app, code, "255755000301", DateTimeOffset.UtcNow.AddHours(-30));
        await page.GotoAsync($"/chats/{code}/255755000301");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("service-window")).ToHaveAttributeAsync("data-open", "false");
        await Expect(page.GetByTestId("composer-window-closed")).ToContainTextAsync("template_required");
        await PhoneLayoutTests.AssertFitsAsync(page, "Cloud API chat");
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Your order is ready");
        await PhoneLayoutTests.AssertReachableAsync(page.GetByTestId("composer-send"));
        found.AddRange(await AccessibilityTests.AxeAsync(page, "Cloud API chat (closed)"));

        // The dark theme too, with the window open.
        await page.GetByTestId("theme-toggle").ClickAsync();
        await page.WaitForFunctionAsync("() => getComputedStyle(document.body).backgroundColor !== 'rgb(255, 255, 255)'");
        await ContactWroteAsync(app, code, "255755000302", DateTimeOffset.UtcNow.AddHours(-1));
        await page.GotoAsync($"/chats/{code}/255755000302");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("service-window")).ToHaveAttributeAsync("data-open", "true");
        found.AddRange(await AccessibilityTests.AxeAsync(page, "Cloud API chat (open, dark)"));
        await page.GotoAsync("/instances");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await page.Locator($"[data-testid=instance-row][data-instance='{code}']").ClickAsync();
        await Expect(page.GetByTestId("cloudapi-template-row")).ToHaveCountAsync(1);
        found.AddRange(await AccessibilityTests.AxeAsync(page, "Cloud API instance (dark)"));

        Assert.True(found.Count == 0, "axe-core found serious or critical violations:\n" + string.Join("\n", found));
    }

    /// <summary>A message from <paramref name="from"/> to the instance at <paramref name="at"/>, and the window it opened.</summary>
    private static async Task ContactWroteAsync(CloudApiApp app, string instanceCode, string from, DateTimeOffset at)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var instance = await db.Instances.SingleAsync(i => i.Code == instanceCode);
        var waId = "wamid." + Guid.NewGuid().ToString("N");
        db.Messages.Add(new Message
        {
            CustomerId = instance.CustomerId, InstanceId = instance.Id, Direction = Message.Inbound, WaMessageId = waId,
            SerializedId = $"false_{from}@c.us_{waId}", FromNumber = from, ToNumber = instance.PhoneNumber, Chat = from,
            Type = "chat", Body = "Habari, is my order ready?", Status = MessageStatus.Received, Source = MessageSources.Inbound, CreatedAt = at,
        });
        await db.SaveChangesAsync();
        await app.Services.GetRequiredService<ServiceWindowStore>().RecordInboundAsync(instance.Id, from, at);
    }
}
