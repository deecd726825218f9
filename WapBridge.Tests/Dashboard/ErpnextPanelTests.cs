using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using WapBridge.Web.Components.Pages.Settings;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The "Use with ERPNext" panel on a real gateway (SQLite, simulator, running outbox): bunit renders the panel and
/// falls back to the gateway's own services, so "Send test" goes through the real MessageService. One gateway serves
/// the whole class (each test has its own customer), to keep the parallel suite light.
/// </summary>
public sealed class ErpnextPanelTests(SqliteMessagingApp app) : IAsyncLifetime, IClassFixture<SqliteMessagingApp>
{
    private const string Gateway = "http://localhost/api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway";

    private readonly BunitContext ctx = new();
    private BunitAuthorizationContext auth = default!;
    private Customer customer = default!;

    public async ValueTask InitializeAsync()
    {
        ctx.Services.AddMudServices();
        auth = ctx.AddAuthorization();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        ctx.Services.AddFallbackServiceProvider(app.Services);

        customer = await Get<CustomerService>().CreateAsync("Duka Ltd", $"{Guid.NewGuid():N}@example.com");
        auth.SetAuthorized("owner@example.com");
        auth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, "user-" + customer.Id),
            new Claim(WapBridgeClaims.CustomerId, customer.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(WapBridgeClaims.CustomerCode, customer.Code));
    }

    public ValueTask DisposeAsync() => ctx.DisposeAsync();

    private T Get<T>() where T : notnull => app.Services.GetRequiredService<T>();

    private async Task<InstanceDetails> ConnectedInstanceAsync(string name, string phone)
    {
        var instances = Get<InstanceService>();
        var instance = await instances.CreateAsync(customer.Id, name, "simulator", "TZ");
        await Get<SimulatorNetwork>().ScanAsync(instance.InstanceId, phone, name);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await instances.GetAsync(customer.Id, instance.InstanceId)).Status != InstanceState.Connected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{instance.InstanceId} never connected");
            await Task.Delay(50);
        }
        return instance;
    }

    private IRenderedComponent<ErpnextPanel> RenderPanel()
    {
        var cut = ctx.Render<ErpnextPanel>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=erpnext-url]"), TimeSpan.FromSeconds(10));
        return cut;
    }

    private static string Text(IRenderedComponent<ErpnextPanel> cut, string testId) => cut.Find($"[data-testid={testId}]").TextContent.Trim();

    [Fact]
    public async Task Shows_the_sms_settings_for_the_chosen_instance_and_active_key()
    {
        var shop = await ConnectedInstanceAsync("Shop", "255700111001");
        var office = await ConnectedInstanceAsync("Office", "255700111002");
        var revoked = await Get<ApiKeyService>().CreateAsync(customer.Id, "old", null);
        await Get<ApiKeyService>().RevokeAsync(customer.Id, revoked.Summary.Id);
        var key = await Get<ApiKeyService>().CreateAsync(customer.Id, "ERPNext", null);

        var cut = RenderPanel();

        Assert.Equal(Gateway, Text(cut, "erpnext-url"));
        Assert.Equal("message", Text(cut, "erpnext-message-param"));
        Assert.Equal("to_number", Text(cut, "erpnext-receiver-param"));
        Assert.Contains("ticked", Text(cut, "erpnext-use-post"));
        Assert.Equal("Authorization", Text(cut, "erpnext-auth-name"));
        Assert.Equal($"token {key.Summary.Key}:<API_SECRET>", Text(cut, "erpnext-auth"));
        Assert.Equal("true", cut.Find("[data-testid=erpnext-auth-header]").GetAttribute("data-header"));
        Assert.Equal("instance_id", Text(cut, "erpnext-instance-id-name"));
        Assert.Equal(shop.InstanceId, Text(cut, "erpnext-instance-id"));
        Assert.Equal("false", cut.Find("[data-testid=erpnext-instance-id-header]").GetAttribute("data-header"));
        Assert.Contains("<API_SECRET>", Text(cut, "erpnext-secret-note"));
        Assert.Contains("no default instance", Text(cut, "erpnext-default"));
        // The secret never reaches the page, and a revoked key is not offered.
        Assert.DoesNotContain(key.Secret, cut.Markup);
        Assert.DoesNotContain(revoked.Summary.Key, cut.Markup);
        Assert.Contains($"{key.Summary.Key} · ERPNext", cut.Markup);

        // Choosing the other instance changes the instance_id row.
        var instanceSelect = cut.FindComponents<MudSelect<string>>()[0];
        await cut.InvokeAsync(() => instanceSelect.Instance.SelectOption(office.InstanceId));
        cut.WaitForAssertion(() => Assert.Equal(office.InstanceId, Text(cut, "erpnext-instance-id")));

        // The copy buttons copy exactly what is shown.
        cut.ClickOn("[data-testid=copy-erpnext-auth]");
        cut.ClickOn("[data-testid=copy-erpnext-url]");
        var copies = ctx.JSInterop.Invocations.Where(i => i.Identifier == "wapbridge.copy").Select(i => i.Arguments[0]).ToList();
        Assert.Equal([$"token {key.Summary.Key}:<API_SECRET>", Gateway], copies);
    }

    [Fact]
    public async Task Names_the_default_instance_and_says_instance_id_may_be_left_out()
    {
        var shop = await ConnectedInstanceAsync("Shop", "255700111003");
        var office = await ConnectedInstanceAsync("Office", "255700111004");
        await Get<InstanceService>().SetDefaultAsync(customer.Id, office.InstanceId);

        var cut = RenderPanel();

        // The default is preselected.
        Assert.Equal(office.InstanceId, Text(cut, "erpnext-instance-id"));
        Assert.Equal(office.InstanceId, Text(cut, "erpnext-default-code"));
        Assert.Contains("leave the instance_id row out", Text(cut, "erpnext-default"));
        Assert.Empty(cut.FindAll("[data-testid=erpnext-make-default]"));

        var instanceSelect = cut.FindComponents<MudSelect<string>>()[0];
        await cut.InvokeAsync(() => instanceSelect.Instance.SelectOption(shop.InstanceId));
        cut.WaitForAssertion(() => Assert.Contains("Keep the row below", Text(cut, "erpnext-default")));
        Assert.Equal(office.InstanceId, Text(cut, "erpnext-default-code"));

        cut.ClickOn("[data-testid=erpnext-make-default]");
        cut.WaitForAssertion(() => Assert.Equal(shop.InstanceId, Text(cut, "erpnext-default-code")));
        await using var db = await Get<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var defaultId = await db.Customers.Where(c => c.Id == customer.Id).Select(c => c.DefaultInstanceId).SingleAsync();
        Assert.Equal(await db.Instances.Where(i => i.Code == shop.InstanceId).Select(i => i.Id).SingleAsync(), defaultId);
    }

    [Fact]
    public async Task Without_an_active_key_it_points_to_generating_one()
    {
        await ConnectedInstanceAsync("Shop", "255700111005");

        var cut = RenderPanel();

        Assert.Contains("no active API key", Text(cut, "erpnext-no-keys"));
        Assert.Equal("token <API_KEY>:<API_SECRET>", Text(cut, "erpnext-auth"));
        Assert.Equal("/settings#api-keys", cut.Find("[data-testid=erpnext-new-key]").GetAttribute("href"));
    }

    [Fact]
    public async Task Send_test_stores_an_erpnext_message_and_shows_a_bad_number_next_to_the_field()
    {
        var shop = await ConnectedInstanceAsync("Shop", "255700111006");
        await Get<ApiKeyService>().CreateAsync(customer.Id, "ERPNext", null);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=erpnext-send-test]").HasAttribute("disabled")));

        // A bad number: the error sits under the number field and nothing is stored.
        cut.Find("[data-testid=erpnext-test-to] input").Input("12ab");
        cut.ClickOn("[data-testid=erpnext-send-test]");
        cut.WaitForAssertion(() => Assert.Contains("to_number", cut.Find("[data-testid=erpnext-test-to]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=erpnext-test-outcome]"));
        var log = Get<MessageLog>();
        var none = new MessageFilter(null, null, null, null, null, null, null);
        Assert.Equal(0, (await log.ListAsync(customer.Id, none, Paging.From(10, 0))).Total);

        // A local number, read with the instance's default country (TZ), as ERPNext stores it.
        cut.Find("[data-testid=erpnext-test-to] input").Input("0755 123 456");
        cut.Find("[data-testid=erpnext-test-text] input").Input("Invoice SINV-0001 is due");
        cut.ClickOn("[data-testid=erpnext-send-test]");

        cut.WaitForAssertion(() => cut.Find("[data-testid=erpnext-test-outcome]"), TimeSpan.FromSeconds(15));
        Assert.DoesNotContain("to_number", cut.Find("[data-testid=erpnext-test-to]").TextContent);
        Assert.Contains(Text(cut, "erpnext-test-status"), new[] { "queued", "sending", "sent", "delivered", "read" });
        var id = Text(cut, "erpnext-test-id");
        var stored = await log.GetAsync(customer.Id, id);
        Assert.Equal(MessageSources.Erpnext, stored.Source);
        Assert.Equal("Invoice SINV-0001 is due", stored.Body);
        Assert.Equal("255755123456", stored.To);
        Assert.Equal(shop.InstanceId, stored.InstanceId);
        Assert.Equal("outbound", stored.Direction);
    }

    [Fact]
    public async Task A_loopback_gateway_url_is_flagged_and_the_public_base_url_replaces_it()
    {
        await ConnectedInstanceAsync("Shop", "255700111091");
        var cut = RenderPanel();
        Assert.Equal(Gateway, Text(cut, "erpnext-url"));
        Assert.Contains("WAPBRIDGE_PublicBaseUrl", Text(cut, "erpnext-loopback-warning"));

        await using var other = new BunitContext();
        other.Services.AddMudServices();
        other.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new WapBridge.Core.Common.WapBridgeOptions { PublicBaseUrl = "https://wapbridge.example.invalid/" }));
        var otherAuth = other.AddAuthorization();
        other.JSInterop.Mode = JSRuntimeMode.Loose;
        other.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        other.Services.AddFallbackServiceProvider(app.Services);
        otherAuth.SetAuthorized("owner@example.com");
        otherAuth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, "user-" + customer.Id),
            new Claim(WapBridgeClaims.CustomerId, customer.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(WapBridgeClaims.CustomerCode, customer.Code));
        var configured = other.Render<ErpnextPanel>();
        configured.WaitForAssertion(() => configured.Find("[data-testid=erpnext-url]"), TimeSpan.FromSeconds(10));
        Assert.Equal("https://wapbridge.example.invalid/api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway", configured.Find("[data-testid=erpnext-url]").TextContent.Trim());
        Assert.Empty(configured.FindAll("[data-testid=erpnext-loopback-warning]"));
    }
}
