using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;
using WapBridge.Web.Components.Pages.Chats;
using WapBridge.Web.Components.Pages.Instances;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The dashboard of a WhatsApp Cloud API instance on the real node against a fake Graph on loopback: the New instance
/// form (its fields, Test connection, the callback URL and verify token once created), the instance's panel (set-up,
/// secrets replaced, fallback template, templates) and the 24-hour window of a chat.
/// </summary>
public sealed class CloudApiDashboardTests : IAsyncLifetime
{
    private const string PublicBase = "https://gateway.example.invalid";

    private static readonly FakeGraphNumber Number = FakeGraph.DefaultNumber;

    private FakeGraph graph = default!;
    private InstanceDashboardHarness h = default!;
    private Customer customer = default!;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        graph = await FakeGraph.StartAsync();
        graph.Templates.Add(FakeGraph.Template("order_update", "en", "Your order {{1}} is ready"));
        graph.Templates.Add(FakeGraph.Template("welcome", "sw", "Karibu {{1}}, asante {{2}}"));
        graph.Templates.Add(FakeGraph.Template("spring_sale", "en", "Spring sale: {{1}} off", status: "REJECTED", category: "MARKETING"));
        h = new InstanceDashboardHarness(TimeProvider.System, graphBaseUrl: graph.BaseUrl, configure: services =>
        {
            services.AddSingleton<IPublicUrls>(new FixedUrls(PublicBase));
            // The Chats page.
            services.AddSingleton<ConversationService>();
            services.AddSingleton<ChatQueries>();
            services.AddSingleton<MediaLinks>();
        });
        customer = await h.StartAsCustomerAsync("Cloud shop");
    }

    public async ValueTask DisposeAsync()
    {
        await h.DisposeAsync();
        await graph.DisposeAsync();
    }

    private sealed class FixedUrls(string baseUrl) : IPublicUrls
    {
        public string BaseUrl => baseUrl;
    }

    private CloudApiInstances CloudApi => h.Ctx.Services.GetRequiredService<CloudApiInstances>();

    private Task<CloudApiInstanceCreated> CreateAsync(string? accessToken = null) =>
        CloudApi.CreateAsync(customer.Id, "Official", new CloudApiInstanceRequest(Number.PhoneNumberId, Number.BusinessAccountId,
            accessToken ?? Number.AccessToken, Number.AppSecret, null), "TZ", null, Ct);

    private async Task WaitForStatusAsync(string code, InstanceState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await h.Instances.GetAsync(customer.Id, code, Ct)).Status != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"instance {code} never became {state.ToWire()}");
            await Task.Delay(50, Ct);
        }
    }

    private IRenderedComponent<ContainerFragment> OpenNewCloudApiDialog()
    {
        var cut = h.Render<InstancesPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-instances]"));
        cut.ClickOn("[data-testid=new-instance]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=create-engine] .mud-input-control"));
        Assert.Empty(cut.FindAll("[data-testid=cloudapi-phone-number-id]"));
        cut.Find("[data-testid=create-engine] .mud-input-control").MouseDown();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".mud-list-item"), i => i.TextContent.Contains("WhatsApp Cloud API")));
        Assert.Single(cut.FindAll(".mud-list-item"), i => i.TextContent.Contains("WhatsApp Cloud API")).Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid=cloudapi-phone-number-id] input"));
        return cut;
    }

    private static void Fill(IRenderedComponent<ContainerFragment> cut, string field, string value) =>
        cut.Find($"[data-testid={field}] input").Input(value);

    [Fact]
    public void Choosing_the_cloud_api_shows_its_fields_with_secrets_hidden_and_no_qr_wording()
    {
        var cut = OpenNewCloudApiDialog();

        foreach (var (field, label) in new[]
                 {
                     ("cloudapi-phone-number-id", "Phone number ID"), ("cloudapi-business-account-id", "WhatsApp Business Account ID"),
                     ("cloudapi-access-token", "Access token"), ("cloudapi-app-secret", "App secret"), ("cloudapi-verify-token", "Verify token"),
                 })
            Assert.Contains(label, cut.Find($"[data-testid={field}] label").TextContent);
        Assert.Equal("password", cut.Find("[data-testid=cloudapi-access-token] input").GetAttribute("type"));
        Assert.Equal("password", cut.Find("[data-testid=cloudapi-app-secret] input").GetAttribute("type"));
        Assert.Equal("text", cut.Find("[data-testid=cloudapi-verify-token] input").GetAttribute("type"));
        Assert.Contains("generated when empty", cut.Find("[data-testid=cloudapi-verify-token]").TextContent);
        Assert.Contains("no QR code", cut.Find("[data-testid=create-intro]").TextContent);
    }

    [Fact]
    public void Test_connection_shows_the_number_and_verified_name_or_metas_refusal_in_plain_words()
    {
        var cut = OpenNewCloudApiDialog();
        Fill(cut, "cloudapi-phone-number-id", Number.PhoneNumberId);
        Fill(cut, "cloudapi-access-token", "EAAG-not-the-token");
        cut.ClickOn("[data-testid=cloudapi-test-connection]");

        cut.WaitForAssertion(() => Assert.Equal("false", cut.Find("[data-testid=cloudapi-test-result]").GetAttribute("data-ok")), TimeSpan.FromSeconds(10));
        var refusal = cut.Find("[data-testid=cloudapi-test-result]").TextContent;
        Assert.Contains("refused the access token", refusal);
        Assert.DoesNotContain("EAAG-not-the-token", cut.Markup.Replace("value=\"EAAG-not-the-token\"", "", StringComparison.Ordinal));

        Fill(cut, "cloudapi-access-token", Number.AccessToken);
        cut.ClickOn("[data-testid=cloudapi-test-connection]");
        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find("[data-testid=cloudapi-test-result]").GetAttribute("data-ok")), TimeSpan.FromSeconds(10));
        Assert.Equal(Number.DisplayPhoneNumber, cut.Find("[data-testid=cloudapi-test-number]").TextContent.Trim());
        Assert.Equal(Number.VerifiedName, cut.Find("[data-testid=cloudapi-test-name]").TextContent.Trim());
        Assert.Contains(graph.Requests, r => r.Method == "GET" && r.Path.EndsWith("/" + Number.PhoneNumberId, StringComparison.Ordinal));
        // A test creates nothing.
        Assert.NotEmpty(cut.FindAll("[data-testid=no-instances]"));
    }

    [Fact]
    public async Task Missing_and_malformed_fields_are_told_under_the_field_by_its_label_and_nothing_is_created()
    {
        var cut = OpenNewCloudApiDialog();
        cut.ClickOn("[data-testid=create-instance]");
        cut.WaitForAssertion(() => Assert.Contains("Phone number ID is required", cut.Find("[data-testid=cloudapi-phone-number-id]").TextContent));
        Assert.DoesNotContain("cloudapi.", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=create-error]"));

        Fill(cut, "cloudapi-phone-number-id", "+255 700 000 111");
        cut.ClickOn("[data-testid=create-instance]");
        cut.WaitForAssertion(() => Assert.Contains("Phone number ID must be", cut.Find("[data-testid=cloudapi-phone-number-id]").TextContent));

        Fill(cut, "cloudapi-phone-number-id", Number.PhoneNumberId);
        Fill(cut, "cloudapi-business-account-id", Number.BusinessAccountId);
        Fill(cut, "cloudapi-access-token", Number.AccessToken);
        Fill(cut, "cloudapi-app-secret", Number.AppSecret);
        Fill(cut, "cloudapi-verify-token", "short");
        cut.ClickOn("[data-testid=create-instance]");
        cut.WaitForAssertion(() => Assert.Contains("Verify token must be 8 to 128 characters", cut.Find("[data-testid=cloudapi-verify-token]").TextContent));
        Assert.DoesNotContain("Phone number ID must be", cut.Markup);

        Assert.Equal(0, (await h.Instances.ListAsync(customer.Id, new Paging(Paging.MaxLimit, 0), Ct)).Total);
    }

    [Fact]
    public async Task Creating_shows_the_callback_url_and_verify_token_to_paste_into_meta_and_the_instance_connects()
    {
        var cut = OpenNewCloudApiDialog();
        cut.Find("[data-testid=create-name] input").Input("Official line");
        Fill(cut, "cloudapi-phone-number-id", Number.PhoneNumberId);
        Fill(cut, "cloudapi-business-account-id", Number.BusinessAccountId);
        Fill(cut, "cloudapi-access-token", Number.AccessToken);
        Fill(cut, "cloudapi-app-secret", Number.AppSecret);
        cut.ClickOn("[data-testid=create-instance]");

        cut.WaitForAssertion(() => cut.Find("[data-testid=cloudapi-created]"), TimeSpan.FromSeconds(10));
        var code = cut.Find("[data-testid=instance-row]").GetAttribute("data-instance")!;
        var dialog = cut.Find("[data-testid=cloudapi-setup]");
        Assert.Equal($"{PublicBase}/webhooks/cloudapi/{code}", dialog.QuerySelector("[data-testid=cloudapi-webhook-url]")!.TextContent.Trim());
        var verifyToken = dialog.QuerySelector("[data-testid=cloudapi-verify-token]")!.TextContent.Trim();
        Assert.Matches("^[A-Za-z0-9_-]{32}$", verifyToken);
        Assert.NotNull(dialog.QuerySelector("[data-testid=copy-cloudapi-webhook-url]"));
        Assert.NotNull(dialog.QuerySelector("[data-testid=copy-cloudapi-verify-token]"));
        Assert.Contains("messages", cut.Find("[data-testid=cloudapi-steps]").TextContent);
        // The secrets are gone from the page once created.
        Assert.DoesNotContain(Number.AccessToken, cut.Markup);
        Assert.DoesNotContain(Number.AppSecret, cut.Markup);
        Assert.Equal(verifyToken, (await CloudApi.GetSetupAsync(customer.Id, code, Ct))!.VerifyToken);

        // The copy button hands the value to the browser's clipboard helper.
        cut.ClickOn("[data-testid=copy-cloudapi-webhook-url]");
        // (Other components call the browser meanwhile: the list is read once the click's call is in.)
        cut.WaitForAssertion(() => Assert.Contains(h.Ctx.JSInterop.Invocations["wapbridge.copy"], i => Equals(i.Arguments[0], $"{PublicBase}/webhooks/cloudapi/{code}")));

        cut.ClickOn("[data-testid=cloudapi-setup-done]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=cloudapi-created]")));
        // Graph answered for the number: connected, as its display number, without any QR code.
        cut.WaitForAssertion(() => Assert.Equal("connected", cut.Find("[data-testid=instance-row] [data-testid=instance-status]").GetAttribute("data-status")),
            TimeSpan.FromSeconds(15));
        Assert.Empty(cut.FindAll("[data-testid=qr-panel]"));
        Assert.Empty(cut.FindAll("[data-testid=pairing-code-panel]"));
    }

    [Fact]
    public async Task The_instance_page_shows_the_setup_again_without_secrets_and_the_accounts_templates()
    {
        var created = await CreateAsync();
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Connected);

        var cut = h.Render<InstanceDetail>(b =>
        {
            b.AddAttribute(1, nameof(InstanceDetail.CustomerId), customer.Id);
            b.AddAttribute(2, nameof(InstanceDetail.InstanceId), created.Instance.Code);
        });
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=cloudapi-template-row]").Count), TimeSpan.FromSeconds(10));

        Assert.Equal(created.WebhookUrl, cut.Find("[data-testid=cloudapi-webhook-url]").TextContent.Trim());
        Assert.Equal(created.VerifyToken, cut.Find("[data-testid=cloudapi-verify-token]").TextContent.Trim());
        Assert.Equal(Number.PhoneNumberId, cut.Find("[data-testid=cloudapi-phone-number-id]").TextContent.Trim());
        Assert.Equal(Number.BusinessAccountId, cut.Find("[data-testid=cloudapi-business-account-id]").TextContent.Trim());
        Assert.DoesNotContain(Number.AccessToken, cut.Markup);
        Assert.DoesNotContain(Number.AppSecret, cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=qr-panel]"));
        Assert.Empty(cut.FindAll("[data-testid=groups-panel]"));

        var order = cut.Find("[data-testid=cloudapi-template-row][data-template=order_update]");
        Assert.Contains("Your order {{1}} is ready", order.TextContent);
        Assert.Contains("utility", order.TextContent);
        Assert.Equal("approved", order.QuerySelector("[data-testid=cloudapi-template-status]")!.TextContent.Trim());
        var sale = cut.Find("[data-testid=cloudapi-template-row][data-template=spring_sale]");
        Assert.Equal("rejected", sale.QuerySelector("[data-testid=cloudapi-template-status]")!.TextContent.Trim());
        Assert.Contains("marketing", sale.TextContent);

        // Logging out asks in the Cloud API's words: no device, no QR code.
        cut.ClickOn("[data-testid=logout-instance]");
        var question = cut.WaitForElement("[data-testid=confirm-panel]").TextContent;
        Assert.Contains("nothing changes in Meta's app", question);
        Assert.DoesNotContain("scan", question);
    }

    [Fact]
    public async Task A_fallback_template_is_picked_from_the_approved_one_variable_templates_and_cleared()
    {
        var created = await CreateAsync();
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Connected);
        var cut = h.Render<InstanceDetail>(b =>
        {
            b.AddAttribute(1, nameof(InstanceDetail.CustomerId), customer.Id);
            b.AddAttribute(2, nameof(InstanceDetail.InstanceId), created.Instance.Code);
        });
        cut.WaitForAssertion(() => cut.Find("[data-testid=cloudapi-fallback-select] .mud-input-control"), TimeSpan.FromSeconds(10));
        Assert.Contains("template_required", cut.Find("[data-testid=cloudapi-fallback]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=cloudapi-clear-fallback]"));

        cut.Find("[data-testid=cloudapi-fallback-select] .mud-input-control").MouseDown();
        // Only order_update fits: welcome has two variables, spring_sale was rejected.
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".mud-list-item")));
        Assert.Contains("order_update · en", cut.Find(".mud-list-item").TextContent);
        cut.ClickOn(".mud-list-item");
        cut.ClickOn("[data-testid=cloudapi-save-fallback]");

        cut.WaitForAssertion(() => Assert.Equal("order_update", cut.Find("[data-testid=cloudapi-fallback-name]").TextContent.Trim()));
        Assert.Equal("en", cut.Find("[data-testid=cloudapi-fallback-language]").TextContent.Trim());
        var setup = await CloudApi.GetSetupAsync(customer.Id, created.Instance.Code, Ct);
        Assert.Equal(("order_update", "en"), (setup!.FallbackTemplate, setup.FallbackTemplateLanguage));

        // The panel shows the saved template while it still finishes the save (its buttons disabled until then).
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=cloudapi-clear-fallback]").HasAttribute("disabled")));
        cut.ClickOn("[data-testid=cloudapi-clear-fallback]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=cloudapi-fallback-name]")));
        Assert.Null((await CloudApi.GetSetupAsync(customer.Id, created.Instance.Code, Ct))!.FallbackTemplate);
    }

    [Fact]
    public async Task A_refused_token_is_explained_instead_of_templates_and_replacing_it_reconnects_and_lists_them()
    {
        var created = await CreateAsync(accessToken: "EAAG-expired-token");
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Disconnected);
        var cut = h.Render<InstanceDetail>(b =>
        {
            b.AddAttribute(1, nameof(InstanceDetail.CustomerId), customer.Id);
            b.AddAttribute(2, nameof(InstanceDetail.InstanceId), created.Instance.Code);
        });
        // Whether the session is still up (Graph then refuses the token again) or has stopped, the page says what to do.
        cut.WaitForAssertion(() => Assert.Matches("refused the instance's access token|not connected to Meta's Graph API",
            cut.Find("[data-testid=cloudapi-templates-error]").TextContent), TimeSpan.FromSeconds(10));
        Assert.Contains("access token", cut.Find("[data-testid=cloudapi-templates-error]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=cloudapi-template-row]"));

        cut.ClickOn("[data-testid=cloudapi-replace-token]");
        Assert.Equal("password", cut.WaitForElement("[data-testid=cloudapi-new-secret] input").GetAttribute("type"));
        cut.ClickOn("[data-testid=cloudapi-save-secret]");
        cut.WaitForAssertion(() => Assert.Contains("New access token is required", cut.Find("[data-testid=cloudapi-new-secret]").TextContent));

        cut.Find("[data-testid=cloudapi-new-secret] input").Input(Number.AccessToken);
        cut.ClickOn("[data-testid=cloudapi-save-secret]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=cloudapi-replace-form]")));
        Assert.DoesNotContain(Number.AccessToken, cut.Markup);
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Connected);

        cut.ClickOn("[data-testid=cloudapi-templates-refresh]");
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=cloudapi-template-row]").Count), TimeSpan.FromSeconds(10));
        Assert.Empty(cut.FindAll("[data-testid=cloudapi-templates-error]"));
    }

    [Fact]
    public async Task Templates_say_so_when_graph_cannot_be_reached()
    {
        var created = await CreateAsync();
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Connected);
        var cut = h.Render<InstanceDetail>(b =>
        {
            b.AddAttribute(1, nameof(InstanceDetail.CustomerId), customer.Id);
            b.AddAttribute(2, nameof(InstanceDetail.InstanceId), created.Instance.Code);
        });
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=cloudapi-template-row]").Count), TimeSpan.FromSeconds(10));

        // Graph gone (its loopback port now refuses connections): the refresh says so, and the set-up stays on show.
        await graph.DisposeAsync();
        cut.ClickOn("[data-testid=cloudapi-templates-refresh]");
        cut.WaitForAssertion(() => Assert.Contains("Could not list the templates", cut.Find("[data-testid=cloudapi-templates-error]").TextContent),
            TimeSpan.FromSeconds(15));
        Assert.NotEmpty(cut.FindAll("[data-testid=cloudapi-webhook-url]"));
    }

    private async Task InboundAsync(Instance instance, string from, string text, DateTimeOffset at)
    {
        var waId = "wamid." + Guid.NewGuid().ToString("N");
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        db.Messages.Add(new Message
        {
            CustomerId = instance.CustomerId, InstanceId = instance.Id, Direction = Message.Inbound, WaMessageId = waId,
            SerializedId = $"false_{from}@c.us_{waId}", FromNumber = from, ToNumber = instance.PhoneNumber, Chat = from,
            Type = "chat", Body = text, Status = MessageStatus.Received, Source = MessageSources.Inbound, CreatedAt = at,
        });
        await db.SaveChangesAsync(Ct);
        await h.Ctx.Services.GetRequiredService<ServiceWindowStore>().RecordInboundAsync(instance.Id, from, at, Ct);
    }

    private IRenderedComponent<ContainerFragment> RenderChat(string instanceCode, string chat) => h.Render<ChatsPage>(b =>
    {
        b.AddAttribute(1, nameof(ChatsPage.Instance), instanceCode);
        b.AddAttribute(2, nameof(ChatsPage.Chat), chat);
    });

    [Fact]
    public async Task A_chat_shows_its_window_open_until_the_instances_local_time_and_then_closed_with_the_composer_explaining()
    {
        var created = await CreateAsync();
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Connected);
        // TZ: the instance's zone is Africa/Dar_es_Salaam (UTC+3).
        var wroteAt = DateTimeOffset.UtcNow - ServiceWindow.Length + TimeSpan.FromSeconds(8);
        await InboundAsync(created.Instance, "255755000201", "Habari", wroteAt);

        var cut = RenderChat(created.Instance.Code, "255755000201");
        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find("[data-testid=service-window]").GetAttribute("data-open")), TimeSpan.FromSeconds(10));
        var until = (wroteAt + ServiceWindow.Length).ToOffset(TimeSpan.FromHours(3));
        Assert.Contains($"Window open until {until:HH:mm}", cut.Find("[data-testid=service-window]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=composer-window-closed]"));

        // Seconds later the contact's window has run out: the chip closes by itself, nothing else re-rendering the page.
        cut.WaitForAssertion(() => Assert.Equal("false", cut.Find("[data-testid=service-window]").GetAttribute("data-open")), TimeSpan.FromSeconds(20));
        Assert.Contains("Window closed — templates only", cut.Find("[data-testid=service-window]").TextContent);
    }

    [Fact]
    public async Task A_closed_window_is_explained_in_the_composer_with_the_fallback_template_when_there_is_one()
    {
        var created = await CreateAsync();
        await WaitForStatusAsync(created.Instance.Code, InstanceState.Connected);
        await InboundAsync(created.Instance, "255755000202", "Old news", DateTimeOffset.UtcNow - TimeSpan.FromHours(30));

        await InboundAsync(created.Instance, "255755000204", "Older news", DateTimeOffset.UtcNow - TimeSpan.FromHours(48));

        var cut = RenderChat(created.Instance.Code, "255755000202");
        cut.WaitForAssertion(() => Assert.Equal("false", cut.Find("[data-testid=service-window]").GetAttribute("data-open")), TimeSpan.FromSeconds(10));
        Assert.Contains("template_required", cut.Find("[data-testid=composer-window-closed]").TextContent);

        // With a fallback template, the next closed chat opened says what a text becomes instead.
        await CloudApi.UpdateAsync(customer.Id, created.Instance.Code, new CloudApiInstanceUpdate(FallbackTemplate: "order_update", FallbackTemplateLanguage: "en"), Ct);
        cut.FindComponent<ChatsPage>().Render(p => p
            .Add(c => c.Instance, created.Instance.Code)
            .Add(c => c.Chat, "255755000204"));
        cut.WaitForAssertion(() => Assert.Contains("fallback template order_update", cut.Find("[data-testid=composer-window-closed]").TextContent),
            TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("template_required", cut.Find("[data-testid=composer-window-closed]").TextContent);
    }

    [Fact]
    public async Task A_chat_of_a_simulator_instance_has_no_window_chip()
    {
        var instance = await h.ConnectedAsync(customer.Id, "255700000900");
        await InboundAsync(instance, "255755000203", "Hello", DateTimeOffset.UtcNow - TimeSpan.FromHours(30));

        var cut = RenderChat(instance.Code, "255755000203");
        cut.WaitForAssertion(() => cut.Find("[data-testid=chat-composer]"), TimeSpan.FromSeconds(10));
        Assert.Empty(cut.FindAll("[data-testid=service-window]"));
        Assert.Empty(cut.FindAll("[data-testid=composer-window-closed]"));
    }
}
