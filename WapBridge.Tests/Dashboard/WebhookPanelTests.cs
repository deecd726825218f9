using Bunit;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Components.Pages.Settings;
using WapBridge.Web.Components.Shared;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The webhook panel on the real <see cref="WebhookSettingsService"/>, a real SQLite file and a real receiver.</summary>
public sealed class WebhookPanelTests : IAsyncLifetime
{
    private readonly DashboardComponentContext dash = new();

    private WebhookSettingsService Webhooks => dash.Get<WebhookSettingsService>();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => dash.DisposeAsync();

    [Fact]
    public async Task Saves_url_and_events_then_shows_a_generated_secret_once()
    {
        var customer = await dash.CreateCustomerAsync("Hooks Ltd");
        dash.LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=save-webhook]").HasAttribute("disabled")));
        // The default subscription is "message".
        Assert.True(EventBox(cut, WebhookEvents.Message).IsChecked());

        cut.Find("[data-testid=webhook-url] input").Input("https://hooks.example.invalid/wapbridge");
        EventBox(cut, WebhookEvents.MessageAck).Change(true);
        cut.ClickOn("[data-testid=save-webhook]");

        cut.WaitForAssertion(() => cut.Find("[data-testid=webhook-enabled]"));
        var saved = await Webhooks.GetAsync(customer.Id, null);
        Assert.Equal("https://hooks.example.invalid/wapbridge", saved.Url);
        Assert.Equal([WebhookEvents.Message, WebhookEvents.MessageAck], saved.Events);
        Assert.False(saved.SecretSet);
        Assert.Empty(cut.FindAll("[data-testid=generated-secret]"));

        cut.ClickOn("[data-testid=generate-secret]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=generated-secret]"));
        var secret = cut.Find("[data-testid=generated-secret]").TextContent.Trim();
        Assert.True(secret.Length >= 16, secret);
        // The secret field holds it at once, readable.
        var field = cut.Find("[data-testid=webhook-secret] input");
        Assert.Equal(secret, field.GetAttribute("value"));
        Assert.Equal("text", field.GetAttribute("type"));
        var withSecret = await Webhooks.GetAsync(customer.Id, null);
        Assert.True(withSecret.SecretSet);
        Assert.EndsWith(secret[^4..], withSecret.SecretMasked);
        // Generating kept the URL and events.
        Assert.Equal("https://hooks.example.invalid/wapbridge", withSecret.Url);
        Assert.Equal([WebhookEvents.Message, WebhookEvents.MessageAck], withSecret.Events);

        cut.ClickOn("[data-testid=copy-secret]");
        var copy = Assert.Single(dash.Ctx.JSInterop.Invocations, i => i.Identifier == "wapbridge.copy");
        Assert.Equal(secret, copy.Arguments[0]);

        // Shown once: dismissed it is gone, and a fresh visit only shows the masked form.
        cut.ClickOn("[data-testid=dismiss-generated-secret]");
        Assert.DoesNotContain(secret, cut.Markup);
        await dash.Ctx.DisposeComponentsAsync();
        var again = RenderPanel();
        again.WaitForAssertion(() => Assert.Equal("https://hooks.example.invalid/wapbridge", again.Find("[data-testid=webhook-url] input").GetAttribute("value")));
        Assert.DoesNotContain(secret, again.Markup);
        Assert.Contains(withSecret.SecretMasked!, again.Markup);
        Assert.True(EventBox(again, WebhookEvents.MessageAck).IsChecked());
    }

    [Fact]
    public async Task Field_errors_show_next_to_their_field_and_nothing_is_saved()
    {
        var customer = await dash.CreateCustomerAsync("Typos Ltd");
        dash.LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=save-webhook]").HasAttribute("disabled")));

        cut.Find("[data-testid=webhook-url] input").Input("https://hooks.example.invalid/x");
        cut.Find("[data-testid=webhook-secret] input").Input("short");
        cut.ClickOn("[data-testid=save-webhook]");
        cut.WaitForAssertion(() => Assert.Contains("at least 16 characters", cut.Find("[data-testid=webhook-secret]").TextContent));

        cut.Find("[data-testid=webhook-secret] input").Input("");
        EventBox(cut, WebhookEvents.Message).Change(false);
        cut.ClickOn("[data-testid=save-webhook]");
        cut.WaitForAssertion(() => Assert.Contains("at least one event", cut.Find("[data-testid=events-error]").TextContent));

        Assert.Null((await Webhooks.GetAsync(customer.Id, null)).Url);
    }

    [Fact]
    public async Task A_secret_with_a_line_break_and_a_reserved_address_are_refused_at_their_fields()
    {
        var customer = await dash.CreateCustomerAsync("Pasted Ltd");
        dash.LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=save-webhook]").HasAttribute("disabled")));

        cut.Find("[data-testid=webhook-url] input").Input("https://hooks.example.com/x");
        cut.Find("[data-testid=webhook-secret] input").Input("pasted-secret-0123\r\nInjected: yes");
        cut.ClickOn("[data-testid=save-webhook]");
        cut.WaitForAssertion(() => Assert.Contains("printable ASCII", cut.Find("[data-testid=webhook-secret]").TextContent));
        // The message does not repeat what was typed.
        Assert.DoesNotContain("Injected", cut.Find("[data-testid=webhook-secret]").TextContent);

        cut.Find("[data-testid=webhook-secret] input").Input("");
        cut.Find("[data-testid=webhook-url] input").Input("http://192.0.2.1/hook");
        cut.ClickOn("[data-testid=save-webhook]");
        cut.WaitForAssertion(() => Assert.Contains("public server", cut.Find("[data-testid=webhook-url]").TextContent));

        Assert.Null((await Webhooks.GetAsync(customer.Id, null)).Url);
    }

    [Fact]
    public async Task Replay_sends_the_delivery_again_and_the_log_shows_the_new_state()
    {
        await using var receiver = await WebhookReceiver.StartAsync(500, 200);
        var customer = await dash.CreateCustomerAsync("Replay Ltd");
        await Webhooks.SetAsync(customer.Id, receiver.Url, null, false, [WebhookEvents.Message], null);
        var first = await Webhooks.SendTestAsync(customer.Id, null);
        Assert.False(first.Delivered);
        Assert.Equal(500, first.StatusCode);

        dash.LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.Equal("pending", cut.Find("[data-testid=delivery-state]").TextContent.Trim()));
        Assert.Equal("test", cut.Find("[data-testid=delivery-event]").TextContent.Trim());
        Assert.Equal("1", cut.Find("[data-testid=delivery-attempts]").TextContent.Trim());
        Assert.Equal("500", cut.Find("[data-testid=delivery-status-code]").TextContent.Trim());
        // The receiver is on loopback: its reply could be an internal service's, so only the status is shown.
        Assert.Equal("HTTP 500", cut.Find("[data-testid=delivery-response]").TextContent.Trim());

        cut.ClickOn("[data-testid=replay-delivery]");

        cut.WaitForAssertion(() => Assert.Equal("delivered", cut.Find("[data-testid=delivery-state]").TextContent.Trim()), TimeSpan.FromSeconds(10));
        Assert.Equal("2", cut.Find("[data-testid=delivery-attempts]").TextContent.Trim());
        Assert.Equal("200", cut.Find("[data-testid=delivery-status-code]").TextContent.Trim());
        Assert.Equal(2, receiver.Requests.Count);
        // The same event id both times, so receivers can de-duplicate.
        Assert.Single(receiver.Requests.Select(r => r.Id).Distinct());

        // The state filter runs on the server (with no instances, the only select on the panel is that filter).
        await cut.InvokeAsync(() => cut.FindComponents<MudSelect<string>>()[^1].Instance.ValueChanged.InvokeAsync(DeliveryState.Dead.ToWire()));
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-deliveries]"));
        await cut.InvokeAsync(() => cut.FindComponents<MudSelect<string>>()[^1].Instance.ValueChanged.InvokeAsync(DeliveryState.Delivered.ToWire()));
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=replay-delivery]")));
    }

    [Fact]
    public async Task Send_test_event_shows_the_status_and_a_410_disables_the_endpoint_visibly()
    {
        await using var receiver = await WebhookReceiver.StartAsync(410);
        var customer = await dash.CreateCustomerAsync("Gone Ltd");
        await Webhooks.SetAsync(customer.Id, receiver.Url, null, false, null, null);
        dash.LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=send-test-event]").HasAttribute("disabled")));
        Assert.Empty(cut.FindAll("[data-testid=webhook-disabled]"));

        cut.ClickOn("[data-testid=send-test-event]");

        cut.WaitForAssertion(() => Assert.Equal("410", cut.Find("[data-testid=test-status]").TextContent.Trim()), TimeSpan.FromSeconds(10));
        Assert.Contains("410", cut.Find("[data-testid=webhook-disabled]").TextContent);
        cut.WaitForAssertion(() => Assert.Equal("dead", cut.Find("[data-testid=delivery-state]").TextContent.Trim()));
        Assert.Single(receiver.Requests);

        // Saving again re-enables it.
        cut.ClickOn("[data-testid=save-webhook]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=webhook-enabled]"));
        Assert.Empty(cut.FindAll("[data-testid=webhook-disabled]"));
        Assert.True((await Webhooks.GetAsync(customer.Id, null)).Enabled);
    }

    [Fact]
    public async Task Instance_overrides_are_listed_with_url_and_events_and_follow_a_save()
    {
        var customer = await dash.CreateCustomerAsync("Branches Ltd");
        var instances = dash.Get<WapBridge.Core.Instances.InstanceService>();
        var north = await instances.CreateAsync(customer.Id, "North", "simulator", null);
        var south = await instances.CreateAsync(customer.Id, "South", "simulator", null);
        await Webhooks.SetAsync(customer.Id, "https://hooks.example.invalid/all", null, false, null, null);
        await Webhooks.SetAsync(customer.Id, "https://north.example.invalid/hook", "north-secret-abcdefgh", false, [WebhookEvents.Message, WebhookEvents.Call], north.InstanceId);
        var stranger = await dash.CreateCustomerAsync("Stranger Ltd");
        var theirs = await instances.CreateAsync(stranger.Id, "Theirs", "simulator", null);
        await Webhooks.SetAsync(stranger.Id, "https://stranger.example.invalid/hook", null, false, null, theirs.InstanceId);

        dash.LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => cut.Find($"[data-testid=override-{north.InstanceId}]"));
        var row = cut.Find($"[data-testid=override-{north.InstanceId}]");
        Assert.Equal("https://north.example.invalid/hook", row.QuerySelector("[data-testid=override-url]")!.TextContent.Trim());
        Assert.Equal("message, call", row.QuerySelector("[data-testid=override-events]")!.TextContent.Trim());
        Assert.Equal("active", row.QuerySelector("[data-testid=override-state]")!.TextContent.Trim());
        Assert.DoesNotContain("north-secret-abcdefgh", cut.Markup);
        Assert.Single(cut.FindAll("[data-testid=webhook-overrides] tbody tr"));
        Assert.DoesNotContain("stranger.example.invalid", cut.Markup);

        // Giving the second instance its own webhook here adds it to the list at once.
        await cut.InvokeAsync(() => cut.FindComponents<MudSelect<string>>()[0].Instance.ValueChanged.InvokeAsync(south.InstanceId));
        cut.WaitForAssertion(() => cut.Find("[data-testid=webhook-no-override]"));
        cut.Find("[data-testid=webhook-url] input").Input("https://south.example.invalid/hook");
        EventBox(cut, WebhookEvents.Presence).Change(true);
        cut.ClickOn("[data-testid=save-webhook]");
        cut.WaitForAssertion(() => cut.Find($"[data-testid=override-{south.InstanceId}]"));
        Assert.Equal("message, presence", cut.Find($"[data-testid=override-{south.InstanceId}] [data-testid=override-events]").TextContent.Trim());
        Assert.Equal(2, (await Webhooks.GetAsync(customer.Id, null)).Instances!.Count);
    }

    [Fact]
    public void A_login_without_customer_gets_an_explanation()
    {
        dash.Auth.SetAuthorized("nobody@example.com");
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.Contains("not linked to a customer", cut.Markup));
        Assert.Empty(cut.FindAll("[data-testid=save-webhook]"));
    }

    private static AngleSharp.Dom.IElement EventBox(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.Find($"[data-testid='event-{name}'] input[type=checkbox]");

    private IRenderedComponent<ContainerFragment> RenderPanel() =>
        dash.Ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<WebhookPanel>(1);
            b.CloseComponent();
        }));
}

internal static class CheckboxExtensions
{
    public static bool IsChecked(this AngleSharp.Dom.IElement input) => input is AngleSharp.Html.Dom.IHtmlInputElement { IsChecked: true } || input.HasAttribute("checked");
}
