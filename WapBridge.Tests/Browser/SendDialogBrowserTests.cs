using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>"Send test message" before any instance exists, and its errors in the dialog's own words.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SendDialogBrowserTests
{
    [Fact]
    public async Task Without_an_instance_send_is_disabled_with_a_link_to_instances_and_errors_use_the_dialog_labels()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app);
        var page = browserPage.Page;
        await DashboardAccount.RegisterAsync(page, "sender@example.com", "Correct-Horse-42", "Sender Ltd");

        await DashboardAccount.NavigateAsync(page, "/messages");
        await page.GetByTestId("open-send").ClickAsync();
        await Expect(page.GetByTestId("send-no-instances")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("send-submit")).ToBeDisabledAsync();
        await page.GetByTestId("send-instances-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/instances$"));

        var customer = (await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001"))!;
        var instance = await app.Services.GetRequiredService<InstanceService>().CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        await app.Services.GetRequiredService<SimulatorNetwork>().ScanAsync(instance.InstanceId, "255700111333", "Shop");

        await DashboardAccount.NavigateAsync(page, "/messages");
        await page.GetByTestId("open-send").ClickAsync();
        await Expect(page.GetByTestId("send-no-instances")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("send-submit")).ToBeEnabledAsync();
        await page.Locator("[data-testid=send-text] textarea").First.FillAsync("Hello");
        await page.GetByTestId("send-submit").ClickAsync();
        await Expect(page.Locator("[data-testid=send-to]")).ToContainTextAsync("Phone number is required");
        await Expect(page.GetByTestId("send-dialog")).Not.ToContainTextAsync("to_number");
    }
}
