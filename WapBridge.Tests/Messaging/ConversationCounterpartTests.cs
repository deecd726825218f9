using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>
/// Contract §9's simulator counterparts: what a contact's phone sends (reactions, edits, revokes, votes, locations, contact
/// cards) arrives through the one inbound path and fires today's <c>message</c> webhook with the whatsapp-web.js type.
/// </summary>
public abstract class ConversationCounterpartTests(WapBridgeApp app)
{
    private const string Contact = "255755123456";

    private async Task<(SendingCustomer Owner, WebhookReceiver Receiver)> SubscribedAsync()
    {
        var owner = await app.CreateConnectedAsync();
        var receiver = await WebhookReceiver.StartAsync();
        (await owner.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url })).EnsureOk();
        return (owner, receiver);
    }

    private static async Task<string> InjectAsync(SendingCustomer owner, object args) =>
        (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", args)).EnsureOk().Message!["id"]!.GetValue<string>();

    private static async Task<JsonNode> HookAsync(WebhookReceiver receiver, string id) =>
        JsonNode.Parse((await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains(id)))).First(h => h.Body.Contains(id)).Body)!["message"]!;

    private async Task<string?> BodyAsync(string serializedId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Messages.Where(m => m.SerializedId == serializedId).Select(m => m.Body).SingleAsync();
    }

    [Fact]
    public async Task A_contacts_reaction_and_revoke_arrive_as_message_webhooks_of_their_type()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        var original = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "Hello" });

        var reaction = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, reaction_to = original, emoji = "❤️" });
        var reactionHook = await HookAsync(receiver, reaction);
        Assert.Equal("reaction", reactionHook["type"]!.GetValue<string>());
        Assert.Equal("❤️", reactionHook["reaction"]!["emoji"]!.GetValue<string>());
        Assert.Equal(original.Split('_')[2], reactionHook["reaction"]!["msgId"]!.GetValue<string>());

        var revoke = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, revoke_of = original });
        var revokeHook = await HookAsync(receiver, revoke);
        Assert.Equal("revoked", revokeHook["type"]!.GetValue<string>());
        Assert.Equal(original.Split('_')[2], revokeHook["revokedId"]!.GetValue<string>());
        // The contact deleted it for everyone: our copy is gone too.
        Assert.Null(await BodyAsync(original));
    }

    [Fact]
    public async Task A_contacts_location_and_contact_card_arrive_as_location_and_vcard()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync();
        await using var _ = receiver;

        var location = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, location = new { latitude = -3.3869, longitude = 36.6830, name = "Arusha" } });
        var locationHook = await HookAsync(receiver, location);
        Assert.Equal("location", locationHook["type"]!.GetValue<string>());
        Assert.Equal(-3.3869, locationHook["location"]!["latitude"]!.GetValue<double>());
        Assert.Equal("Arusha", locationHook["location"]!["name"]!.GetValue<string>());

        var card = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, vcard = new { name = "Juma", number = "+255 712 345 678" } });
        var cardHook = await HookAsync(receiver, card);
        Assert.Equal("vcard", cardHook["type"]!.GetValue<string>());
        Assert.Contains("waid=255712345678", cardHook["vCards"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_contacts_edit_changes_the_stored_text_and_a_poll_vote_stores_no_message()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var original = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "Meet at 5" });

        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, edit_of = original, message = "Meet at 6" });
        Assert.Equal("Meet at 6", await BodyAsync(original));

        var poll = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.send_poll",
            new { instance_id = owner.InstanceId, to_number = Contact, question = "Tea or coffee?", options = new[] { "Tea", "Coffee" } })).EnsureOk().Message!;
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, poll_vote = new { poll_id = poll["id"]!.GetValue<string>(), options = new[] { "Tea" } } });
        var inbound = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = owner.InstanceId, direction = "inbound" })).EnsureOk().Message!;
        Assert.Equal(1, inbound["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Counterparts_need_their_arguments_and_one_kind_per_message()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        async Task Refused(object args, string field)
        {
            var answer = await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", args);
            Assert.Equal(417, answer.Status);
            Assert.Equal(field, answer.ErrorField);
        }
        await Refused(new { instance_id = owner.InstanceId, from_number = Contact, reaction_to = "3EB0AA" }, "emoji");
        await Refused(new { instance_id = owner.InstanceId, from_number = Contact, reaction_to = "3EB0AA", emoji = "yes" }, "emoji");
        await Refused(new { instance_id = owner.InstanceId, from_number = Contact, edit_of = "3EB0AA" }, "message");
        await Refused(new { instance_id = owner.InstanceId, from_number = Contact, location = new { latitude = 100, longitude = 0 } }, "location.latitude");
        await Refused(new { instance_id = owner.InstanceId, from_number = Contact, vcard = new { name = "X", number = "1" } }, "vcard.number");
        await Refused(new { instance_id = owner.InstanceId, from_number = Contact, revoke_of = "3EB0AA", edit_of = "3EB0AB", message = "x" }, "revoke_of");
    }
}

public sealed class SqliteConversationCounterpartTests(SqliteMessagingApp app) : ConversationCounterpartTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresConversationCounterpartTests(PostgresMessagingApp app) : ConversationCounterpartTests(app), IClassFixture<PostgresMessagingApp>;

/// <summary>An instance on an engine without the optional features: every §9 feature it is asked for is a 409 naming it.</summary>
public sealed class EngineFeatureUnavailableTests(EngineFeatureUnavailableTests.PlainEngineApp app) : IClassFixture<EngineFeatureUnavailableTests.PlainEngineApp>
{
    private const string Method = "wap_bridge.api.whatsapp.";

    [Fact]
    public async Task Every_feature_the_engine_lacks_is_409_EngineFeatureUnavailable_and_keeps_nothing()
    {
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var instance = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = PlainEngine.EngineName })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = instance })).EnsureOk().Message!["status"]!.GetValue<string>() != "connected")
        {
            Assert.True(DateTime.UtcNow < deadline, "the plain engine's instance never connected");
            await Task.Delay(50);
        }
        var text = (await client.CallAsync(Method + "send_api_message", new { instance_id = instance, to_number = "255755123456", message = "plain text works" })).EnsureOk().Message!;

        async Task Unavailable(string method, object args, string feature)
        {
            var answer = await client.CallAsync(Method + method, args);
            Assert.Equal(409, answer.Status);
            Assert.Equal("EngineFeatureUnavailable", answer.ExcType);
            Assert.Equal("engine_feature_unavailable", answer.ErrorCode);
            Assert.Contains(feature, answer.Body!["error"]!["message"]!.GetValue<string>());
        }
        var sent = text["id"]!.GetValue<string>();
        await Unavailable("send_api_message", new { instance_id = instance, to_number = "255755123456", message = "re", quoted_id = sent }, EngineFeatures.Replies);
        await Unavailable("send_api_message", new { instance_id = instance, to_number = "255755123456", message = "hi", mentions = new[] { "255755123456" } }, EngineFeatures.Mentions);
        await Unavailable("send_location", new { instance_id = instance, to_number = "255755123456", latitude = 1, longitude = 1 }, EngineFeatures.Locations);
        await Unavailable("send_contact", new { instance_id = instance, to_number = "255755123456", contacts = new[] { new { name = "A", number = "255755123456" } } }, EngineFeatures.Contacts);
        await Unavailable("send_poll", new { instance_id = instance, to_number = "255755123456", question = "Q", options = new[] { "a", "b" } }, EngineFeatures.Polls);
        await Unavailable("send_reaction", new { id = sent, emoji = "👍" }, EngineFeatures.Reactions);
        await Unavailable("edit_message", new { id = sent, message = "new" }, EngineFeatures.Edits);
        await Unavailable("delete_message", new { id = sent, for_everyone = true }, EngineFeatures.DeleteForEveryone);
        await Unavailable("delete_message", new { id = sent }, EngineFeatures.DeleteForMe);
        await Unavailable("mark_read", new { instance_id = instance, chat = "255755123456" }, EngineFeatures.ReadReceipts);
        await Unavailable("send_presence", new { instance_id = instance, to_number = "255755123456", state = "composing" }, EngineFeatures.Presence);

        var log = (await client.CallAsync(Method + "list_messages", new { instance_id = instance })).EnsureOk().Message!;
        Assert.Equal(1, log["total"]!.GetValue<int>());
    }

    public sealed class PlainEngineApp() : WapBridgeApp("sqlite", FastMessaging.Settings())
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IWhatsAppEngine, PlainEngine>());
        }
    }

    /// <summary>An engine that connects at once and sends text, and opts in to nothing else.</summary>
    private sealed class PlainEngine : IWhatsAppEngine
    {
        public const string EngineName = "plain";
        public string Name => EngineName;
        public string? UnavailableReason => null;
        public bool SupportsPairingCode => false;
        public IEngineSession CreateSession(EngineSessionContext context) => new PlainSession(context);
    }

    private sealed class PlainSession(EngineSessionContext context) : IEngineSession
    {
        public string InstanceId => context.InstanceId;

        public async Task ConnectAsync(CancellationToken ct = default) =>
            await context.Events.OnEventAsync(new ConnectedEvent(InstanceId, DateTimeOffset.UtcNow, "255700000123", null), ct);

        public Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default) => Task.FromResult(EngineSendResult.Ok);

        public Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default) => throw new NotSupportedException();

        public Task LogoutAsync(CancellationToken ct = default) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
