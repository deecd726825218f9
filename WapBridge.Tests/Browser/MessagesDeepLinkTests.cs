using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace WapBridge.Tests.Browser;

/// <summary>The Messages page says who wrote, where a message came from and why it failed, and keeps its view in the URL.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MessagesDeepLinkTests
{
    [Fact]
    public async Task Rows_show_sender_source_campaign_instance_and_failure_and_filters_survive_a_reload()
    {
        BrowserSession.RequireChromium();
        await using var app = new WapBridgeApp(kestrel: true, settings: FastMessaging.Settings());
        await app.InitializeAsync();
        await using var browserPage = await BrowserSession.OpenAsync(app, new ViewportSize { Width = 1440, Height = 900 });
        var page = browserPage.Page;
        await DashboardAccount.RegisterAsync(page, "links@example.com", "Correct-Horse-42", "Links Ltd");

        var customer = (await app.Services.GetRequiredService<CustomerService>().FindByCodeAsync("CUST-0001"))!;
        var instances = app.Services.GetRequiredService<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, "Front desk", "simulator", "TZ");
        var network = app.Services.GetRequiredService<SimulatorNetwork>();
        await network.ScanAsync(instance.InstanceId, "255700111444", "Shop");
        var messages = app.Services.GetRequiredService<MessageService>();
        await messages.SendAsync(new SendRequest(customer.Id, instance.InstanceId, null, "+255755000301", "From the API", null, null, null, null,
            MessageSources.Api, TimeSpan.FromSeconds(5)));
        await messages.SendAsync(new SendRequest(customer.Id, instance.InstanceId, null, "+255755009999", "Nobody there", null, null, null, null,
            MessageSources.Api, TimeSpan.FromSeconds(5)));
        var inbound = await network.InjectInboundAsync(instance.InstanceId, new SimulatedInbound("255755000302", null, "Habari", PushName: "Asha M."));
        var (campaign, _) = await app.Services.GetRequiredService<CampaignService>().CreateAsync(customer.Id, new NewCampaign(instance.InstanceId, "Promo",
            "From the campaign", new JsonArray("+255755000303"), null, null, null, null, null, JsonNode.Parse("""{"min_delay_seconds": 0, "max_delay_seconds": 0}""")!.AsObject()));

        await page.GotoAsync("/messages");
        await DashboardAccount.WaitForInteractiveAsync(page);
        var table = page.GetByTestId("messages-table");
        await Expect(table).ToContainTextAsync("From the campaign");
        await Expect(page.GetByTestId("message-sender-name")).ToHaveTextAsync("Asha M.");
        await Expect(page.GetByTestId("message-instance").First).ToHaveTextAsync("Front desk");
        var apiRow = page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("From the API") });
        await Expect(apiRow.GetByTestId("message-source")).ToHaveTextAsync("API");
        var failedRow = page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("Nobody there") });
        await Expect(failedRow.GetByTestId("message-failure")).ToBeVisibleAsync();
        var campaignRow = page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("From the campaign") });
        await Expect(campaignRow.GetByTestId("message-source")).ToHaveTextAsync("Campaign");
        await Expect(campaignRow.GetByTestId("message-campaign")).ToHaveTextAsync(campaign.Campaign);

        // A filter and an open message go into the URL, and a reload brings both back.
        await page.GotoAsync("/messages?direction=inbound");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(table).ToContainTextAsync("Habari");
        await Expect(table).Not.ToContainTextAsync("From the API");
        await page.Locator("tr", new PageLocatorOptions { Has = page.GetByText("Habari") }).ClickAsync();
        await Expect(page.GetByTestId("message-detail")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new Regex("direction=inbound.*message=false_.*" + Regex.Escape(inbound)));
        await page.ReloadAsync();
        await DashboardAccount.WaitForInteractiveAsync(page);
        await Expect(page.GetByTestId("message-detail")).ToHaveAttributeAsync("data-message-id", new Regex(Regex.Escape(inbound) + "$"));
        await Expect(table).Not.ToContainTextAsync("From the API");

        // Campaign code → the campaign, opened; its Messages button → this page filtered to it.
        await page.GotoAsync("/messages");
        await DashboardAccount.WaitForInteractiveAsync(page);
        await campaignRow.GetByTestId("message-campaign").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/campaigns\\?campaign=" + campaign.Campaign));
        await Expect(page.GetByTestId("campaign-detail")).ToHaveAttributeAsync("data-campaign", campaign.Campaign);
        await page.GetByTestId("detail-messages").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/messages\\?campaign=" + campaign.Campaign));
        await Expect(page.GetByTestId("filter-campaign")).ToBeVisibleAsync();
        await Expect(table).ToContainTextAsync("From the campaign");
        await Expect(table).Not.ToContainTextAsync("From the API");

        // An instance's detail opens its messages, filtered by the instance in the URL.
        await DashboardAccount.NavigateAsync(page, "/instances");
        await page.GetByTestId("instance-row").First.ClickAsync();
        await page.GetByTestId("instance-messages").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/messages\\?instance=" + Regex.Escape(instance.InstanceId)));
        await Expect(page.GetByTestId("filter-instance")).ToContainTextAsync("Front desk");
        await Expect(table).ToContainTextAsync("From the API");
    }
}
