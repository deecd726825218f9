using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The "Use with ERPNext" panel on /settings through a real browser.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ErpnextPanelBrowserTests
{
    /// <summary>Set to a folder to keep a screenshot of the panel (e.g. WAPBRIDGE_SCREENSHOTS=/tmp).</summary>
    private static readonly string? ScreenshotDir = Environment.GetEnvironmentVariable("WAPBRIDGE_SCREENSHOTS");

    [Fact]
    public async Task The_panel_shows_the_sms_settings_and_sends_a_test_message()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();

        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1400, Height = 900 });
        var page = browserPage.Page;

        await DashboardAccount.RegisterAsync(page, "erp@example.com", "Correct-Horse-42", "ERP Test Ltd");
        var customer = await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001");
        Assert.NotNull(customer);
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, "Shop phone", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, "255700111222", "Shop");
        await instances.SetDefaultAsync(customer.Id, instance.InstanceId);
        var key = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(customer.Id, "ERPNext", null);

        await DashboardAccount.NavigateAsync(page, "/settings");
        var panel = page.GetByTestId("erpnext-panel");
        await Expect(page.GetByTestId("erpnext-url")).ToHaveTextAsync(
            app.ServerAddress.ToString().TrimEnd('/') + "/api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway");
        await Expect(page.GetByTestId("erpnext-auth")).ToHaveTextAsync($"token {key.Summary.Key}:<API_SECRET>");
        await Expect(page.GetByTestId("erpnext-instance-id")).ToHaveTextAsync(instance.InstanceId);
        await Expect(page.GetByTestId("erpnext-default-code")).ToHaveTextAsync(instance.InstanceId);

        var send = page.GetByTestId("erpnext-send-test");
        await Expect(send).ToBeEnabledAsync();
        await page.Locator("[data-testid=erpnext-test-to] input").FillAsync("0755 123 456");
        await send.ClickAsync();
        await Expect(page.GetByTestId("erpnext-test-outcome")).ToBeVisibleAsync();
        var id = (await page.GetByTestId("erpnext-test-id").InnerTextAsync()).Trim();
        var stored = await app.Services.GetRequiredService<MessageLog>().GetAsync(customer.Id, id);
        Assert.Equal(MessageSources.Erpnext, stored.Source);

        if (ScreenshotDir is not null)
        {
            // A tall viewport so the whole panel fits under the fixed app bar.
            await page.SetViewportSizeAsync(1400, 1600);
            await page.Locator("#erpnext").ScrollIntoViewIfNeededAsync();
            await page.EvaluateAsync("() => window.scrollTo(0, document.getElementById('erpnext').getBoundingClientRect().top + window.scrollY - 80)");
            await page.WaitForTimeoutAsync(300);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "erpnext-panel.png") });
        }
        await Expect(panel).ToBeVisibleAsync();
    }
}
