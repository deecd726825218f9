using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>Pause, resume and cancel stay within reach with a campaign's detail open, on a wide screen and on a phone.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CampaignActionsBrowserTests
{
    [Theory]
    [InlineData(1440, 900)]
    [InlineData(390, 844)]
    public async Task The_open_detail_carries_the_actions_and_the_list_keeps_its_action_column_on_screen(int width, int height)
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = width, Height = height });
        var page = browserPage.Page;
        await DashboardAccount.RegisterAsync(page, "actions@example.com", "Correct-Horse-42", "Actions Ltd");
        var customer = (await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001"))!;
        var instance = await app.Services.GetRequiredService<InstanceService>().CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        // Scheduled an hour ahead: it stays put while the test works its buttons.
        var (created, _) = await app.Services.GetRequiredService<CampaignService>().CreateAsync(customer.Id, new NewCampaign(instance.InstanceId,
            "A campaign with a rather long name to widen its column", "Hi", new JsonArray("+255755000201", "+255755000202"), null, null, null, null,
            DateTimeOffset.UtcNow.AddHours(1), null));

        await page.GotoAsync("/campaigns");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var row = page.Locator($"[data-testid=campaign-row][data-campaign='{created.Campaign}']");
        await row.ClickAsync();
        var detail = page.GetByTestId("campaign-detail");
        await Expect(detail).ToBeVisibleAsync();

        // The list's actions: on screen, not pushed out of the table's visible part.
        var rowCancel = row.GetByTestId("cancel-campaign");
        await Expect(rowCancel).ToBeInViewportAsync();
        var box = (await rowCancel.BoundingBoxAsync())!;
        Assert.True(box.X >= 0 && box.X + box.Width <= width, $"row action at x={box.X} of a {width} px screen");

        // The detail's own actions.
        var pause = detail.GetByTestId("detail-pause");
        await pause.ScrollIntoViewIfNeededAsync();
        await Expect(pause).ToBeInViewportAsync();
        await pause.ClickAsync();
        await Expect(detail.GetByTestId("campaign-status")).ToHaveAttributeAsync("data-status", "paused");
        await detail.GetByTestId("detail-resume").ClickAsync();
        await Expect(detail.GetByTestId("campaign-status")).ToHaveAttributeAsync("data-status", "running");
        var cancel = detail.GetByTestId("detail-cancel");
        await Expect(cancel).ToBeInViewportAsync();
        await cancel.ClickAsync();
        await page.GetByTestId("confirm-cancel").ClickAsync();
        await Expect(detail.GetByTestId("campaign-status")).ToHaveAttributeAsync("data-status", "cancelled");
        await Expect(detail.GetByTestId("count-cancelled")).ToHaveAttributeAsync("data-value", "2");
    }
}
