using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>
/// Meta's 24-hour customer-service window (contract §11): kept per contact from inbound messages, open for 24 hours
/// after the last one; outside it the outbox sends the instance's fallback template (text only) or refuses with
/// <c>template_required</c>; templates and engines without the rule are never held back.
/// </summary>
public abstract class ServiceWindowTests(WapBridgeApp app)
{
    private const string Contact = "255755123456";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IDbContextFactory<WapBridgeDbContext> Db => app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();

    /// <summary>An instance row to hang windows on, seen as running on an engine with the window rule.</summary>
    private async Task<Instance> InstanceAsync(string? fallback = null, string? fallbackLanguage = null)
    {
        var owner = await app.CreateConnectedAsync();
        await using var db = await Db.CreateDbContextAsync(Ct);
        var instance = await db.Instances.AsNoTracking().SingleAsync(i => i.Code == owner.InstanceId, Ct);
        instance.Engine = WindowedEngine.EngineName;
        instance.FallbackTemplate = fallback;
        instance.FallbackTemplateLanguage = fallbackLanguage;
        return instance;
    }

    private (ServiceWindowStore Store, ServiceWindowRule Rule, FakeTimeProvider Clock) Build()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));
        var store = new ServiceWindowStore(Db, clock);
        var engines = new EngineRegistry([new WindowedEngine(), new PlainEngine()]);
        return (store, new ServiceWindowRule(Db, engines, store, NullLogger<ServiceWindowRule>.Instance), clock);
    }

    /// <summary>A queued row as the API stores it (so the rule's note of a fallback lands on it).</summary>
    private async Task<Message> RowAsync(Instance instance, string type = "chat", string? body = "Invoice 12 is due.\nPay by Friday.", string? content = null)
    {
        var message = OutboundMessages.New(instance, Contact, body, null, null, MessageSources.Erpnext, null, DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        message.Type = type;
        message.Content = content;
        await using var db = await Db.CreateDbContextAsync(Ct);
        db.Messages.Add(message);
        await db.SaveChangesAsync(Ct);
        return message;
    }

    [Fact]
    public async Task The_window_opens_with_an_inbound_message_and_closes_24_hours_later()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync();
        var (store, _, clock) = Build();
        Assert.Null(await store.OpenUntilAsync(instance.Id, Contact, Ct));

        var wrote = clock.GetUtcNow().AddMinutes(-10);
        await store.RecordInboundAsync(instance.Id, Contact, wrote, Ct);
        Assert.Equal(wrote + TimeSpan.FromHours(24), await store.OpenUntilAsync(instance.Id, Contact, Ct));
        Assert.Null(await store.OpenUntilAsync(instance.Id, "255755000999", Ct));

        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(11));
        Assert.NotNull(await store.OpenUntilAsync(instance.Id, Contact, Ct));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await store.OpenUntilAsync(instance.Id, Contact, Ct));
    }

    [Fact]
    public async Task The_window_only_moves_forward()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync();
        var (store, _, clock) = Build();
        var latest = clock.GetUtcNow().AddHours(-1);
        await store.RecordInboundAsync(instance.Id, Contact, latest, Ct);
        // A late callback for an older message (Meta retries) never shortens the window.
        await store.RecordInboundAsync(instance.Id, Contact, latest.AddHours(-5), Ct);
        Assert.Equal(latest + ServiceWindow.Length, await store.OpenUntilAsync(instance.Id, Contact, Ct));

        var newer = clock.GetUtcNow();
        await store.RecordInboundAsync(instance.Id, Contact, newer, Ct);
        Assert.Equal(newer + ServiceWindow.Length, await store.OpenUntilAsync(instance.Id, Contact, Ct));
    }

    [Fact]
    public async Task Outside_the_window_free_text_is_refused_with_template_required_naming_the_fix()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync();
        var (store, rule, clock) = Build();
        var message = await RowAsync(instance);

        var decision = await rule.CheckAsync(instance, message, Ct);
        Assert.Equal("template_required", decision.RefusalCode);
        Assert.Contains($"{Contact} has not written in the last 24 hours", decision.Refusal);
        Assert.Contains("whatsapp.send_template", decision.Refusal);
        Assert.Contains("fallback_template", decision.Refusal);

        // Once the contact writes, the same message may go as it is; a day later it may not.
        await store.RecordInboundAsync(instance.Id, Contact, clock.GetUtcNow(), Ct);
        Assert.Same(ServiceWindowDecision.Send, await rule.CheckAsync(instance, message, Ct));
        clock.Advance(TimeSpan.FromHours(25));
        Assert.Equal("template_required", (await rule.CheckAsync(instance, message, Ct)).RefusalCode);
    }

    [Fact]
    public async Task Outside_the_window_text_goes_out_as_the_fallback_template_with_the_text_as_its_parameter()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync("erp_notice", "en_US");
        var (_, rule, _) = Build();
        var message = await RowAsync(instance);

        var decision = await rule.CheckAsync(instance, message, Ct);
        Assert.Null(decision.RefusalCode);
        var template = Assert.IsType<OutgoingTemplate>(decision.Fallback);
        Assert.Equal("erp_notice", template.Name);
        Assert.Equal("en_US", template.Language);
        Assert.Equal("""[{"type":"body","parameters":[{"type":"text","text":"Invoice 12 is due. Pay by Friday."}]}]""", template.ComponentsJson);
        var sent = decision.Apply(new OutgoingMessage(message.WaMessageId, Contact, message.Body));
        Assert.Null(sent.Text);
        Assert.Same(template, sent.Content);

        // The row keeps its text and says what went out.
        await using var db = await Db.CreateDbContextAsync(Ct);
        var row = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == message.Id, Ct);
        Assert.Equal("Invoice 12 is due.\nPay by Friday.", row.Body);
        var content = MessageContent.Read<TemplateContent>(row.Content)!;
        Assert.Equal(("erp_notice", "en_US", true), (content.Name, content.Language, content.Fallback));
    }

    [Fact]
    public async Task The_fallback_template_takes_English_when_no_language_is_set_and_only_replaces_text()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync("erp_notice");
        var (_, rule, _) = Build();
        Assert.Equal("en", (await rule.CheckAsync(instance, await RowAsync(instance), Ct)).Fallback!.Language);

        var location = await RowAsync(instance, "location", "Office", MessageContent.Write(new LocationContent(-6.8, 39.28, "Office", null)));
        Assert.Equal("template_required", (await rule.CheckAsync(instance, location, Ct)).RefusalCode);
    }

    [Fact]
    public async Task Templates_and_engines_without_the_rule_are_never_held_back()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync();
        var (_, rule, _) = Build();
        var template = await RowAsync(instance, TemplateService.MessageType, "order_update",
            MessageContent.Write(new TemplateContent("order_update", "en", null)));
        Assert.Same(ServiceWindowDecision.Send, await rule.CheckAsync(instance, template, Ct));

        instance.Engine = PlainEngine.EngineName;
        Assert.Same(ServiceWindowDecision.Send, await rule.CheckAsync(instance, await RowAsync(instance), Ct));
    }

    [Fact]
    public async Task A_contacts_own_message_opens_the_window_group_messages_and_other_engines_do_not()
    {
        app.SkipIfUnavailable();
        var instance = await InstanceAsync();
        var (store, _, clock) = Build();
        var recorder = new ServiceWindowRecorder(store, new EngineRegistry([new WindowedEngine(), new PlainEngine()]), clock,
            NullLogger<ServiceWindowRecorder>.Instance);
        var sent = clock.GetUtcNow().AddMinutes(-3);
        MessageReceivedEvent Inbound(string from, string? group = null) =>
            new(instance.Code, clock.GetUtcNow(), new InboundEngineMessage("wamid.x" + from, from, null, null, group, "chat", "hi", null, null, sent));

        await recorder.OnEngineEventAsync(instance, Inbound("255755000111", group: "120363000000000001@g.us"), Ct);
        Assert.Null(await store.OpenUntilAsync(instance.Id, "255755000111", Ct));
        instance.Engine = PlainEngine.EngineName;
        await recorder.OnEngineEventAsync(instance, Inbound("255755000222"), Ct);
        Assert.Null(await store.OpenUntilAsync(instance.Id, "255755000222", Ct));
        instance.Engine = WindowedEngine.EngineName;

        // Counted from when the contact sent it (Meta's callback may come late).
        await recorder.OnEngineEventAsync(instance, Inbound(Contact), Ct);
        Assert.Equal(sent + ServiceWindow.Length, await store.OpenUntilAsync(instance.Id, Contact, Ct));
    }

    private sealed class WindowedEngine : IWhatsAppEngine
    {
        public const string EngineName = "windowed";
        public string Name => EngineName;
        public string? UnavailableReason => null;
        public bool SupportsPairingCode => false;
        public bool Supports(string feature) => feature is EngineFeatures.ServiceWindow or EngineFeatures.Templates;
        public IEngineSession CreateSession(EngineSessionContext context) => throw new NotSupportedException();
    }

    private sealed class PlainEngine : IWhatsAppEngine
    {
        public const string EngineName = "plain";
        public string Name => EngineName;
        public string? UnavailableReason => null;
        public bool SupportsPairingCode => false;
        public IEngineSession CreateSession(EngineSessionContext context) => throw new NotSupportedException();
    }
}

public sealed class SqliteServiceWindowTests(SqliteMessagingApp app) : ServiceWindowTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresServiceWindowTests(PostgresMessagingApp app) : ServiceWindowTests(app), IClassFixture<PostgresMessagingApp>;
