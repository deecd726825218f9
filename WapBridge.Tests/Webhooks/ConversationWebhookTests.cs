using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Webhooks;

/// <summary>
/// Contract §9's opt-in webhook events (message.reaction, message.edited, message.revoked, poll.vote, call, presence,
/// contact.lid), replies with the quoted text, and per-instance targets in get_webhook: over HTTP to a real receiver.
/// </summary>
public abstract class ConversationWebhookTests(WapBridgeApp app)
{
    private const string Contact = "255755123456";
    private const string Secret = "receiver-shared-secret-123";
    private static readonly string[] Envelope = ["event", "instance_id", "customer", "timestamp", "data"];

    private async Task<(SendingCustomer Owner, WebhookReceiver Receiver)> SubscribedAsync(params string[] events)
    {
        var owner = await app.CreateConnectedAsync();
        return (owner, await SubscribeAsync(owner, events));
    }

    private static async Task<WebhookReceiver> SubscribeAsync(SendingCustomer owner, string[] events, string? instanceId = null)
    {
        var receiver = await WebhookReceiver.StartAsync();
        var args = new JsonObject { ["url"] = receiver.Url, ["secret"] = Secret, ["instance_id"] = instanceId };
        if (events.Length > 0)
            args["events"] = new JsonArray(events.Select(e => (JsonNode?)e).ToArray());
        (await owner.Client.CallAsync("wap_bridge.api.settings.set_webhook", args)).EnsureOk();
        return receiver;
    }

    private static async Task<string> InjectAsync(SendingCustomer owner, object args) =>
        (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", args)).EnsureOk().Message!["id"]!.GetValue<string>();

    private static string WaId(string serializedId) => serializedId.Split('_')[2];

    private static async Task<List<JsonObject>> EventsAsync(WebhookReceiver receiver, string eventType, int count)
    {
        var hooks = await receiver.WaitForAsync(r => r.Count(h => JsonNode.Parse(h.Body)!["event"]!.GetValue<string>() == eventType) >= count);
        return hooks.Select(h => JsonNode.Parse(h.Body)!.AsObject()).Where(b => b["event"]!.GetValue<string>() == eventType).ToList();
    }

    [Fact]
    public async Task Reaction_edit_revoke_and_vote_events_arrive_signed_in_the_envelope_and_the_message_events_stay()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync("message", "message.reaction", "message.edited", "message.revoked", "poll.vote");
        await using var _ = receiver;
        var original = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "Meet at 5" });
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, reaction_to = original, emoji = "❤️" });
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, edit_of = original, message = "Meet at 6" });
        var poll = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.send_poll",
            new { instance_id = owner.InstanceId, to_number = Contact, question = "Tea or coffee?", options = new[] { "Tea", "Coffee" } })).EnsureOk().Message!;
        var pollId = poll["id"]!.GetValue<string>();
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, poll_vote = new { poll_id = pollId, options = new[] { "Coffee" } } });
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, revoke_of = original });

        var reaction = Assert.Single(await EventsAsync(receiver, "message.reaction", 1));
        Assert.Equal(Envelope, reaction.Select(p => p.Key));
        Assert.Equal(owner.InstanceId, reaction["instance_id"]!.GetValue<string>());
        Assert.Equal(original, reaction["data"]!["id"]!.GetValue<string>());
        Assert.Equal("❤️", reaction["data"]!["emoji"]!.GetValue<string>());
        Assert.Equal(Contact + "@c.us", reaction["data"]!["from"]!.GetValue<string>());
        Assert.Equal(Contact, reaction["data"]!["from_phone"]!.GetValue<string>());

        var edited = Assert.Single(await EventsAsync(receiver, "message.edited", 1))["data"]!;
        Assert.Equal(original, edited["id"]!.GetValue<string>());
        Assert.Equal("Meet at 6", edited["body"]!.GetValue<string>());

        var vote = Assert.Single(await EventsAsync(receiver, "poll.vote", 1))["data"]!;
        Assert.Equal(pollId, vote["poll_id"]!.GetValue<string>());
        Assert.Equal(["Coffee"], vote["selected_options"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.True(vote["decrypted"]!.GetValue<bool>());
        Assert.Equal(Contact + "@c.us", vote["from"]!.GetValue<string>());

        var revoked = Assert.Single(await EventsAsync(receiver, "message.revoked", 1))["data"]!;
        Assert.Equal(original, revoked["id"]!.GetValue<string>());

        // Signed like every other event.
        var hook = receiver.Received.First(h => h.Body.Contains("\"message.reaction\""));
        Assert.Equal(Secret, hook.Header("X-Wapbridge-Secret"));
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret),
            Encoding.UTF8.GetBytes($"{hook.Header("webhook-id")}.{hook.Header("webhook-timestamp")}.{hook.Body}")));
        Assert.Equal(expected, hook.Header("webhook-signature"));

        // Regression: the reaction and the revoke still arrive as message events of their type, as before.
        var messages = (await EventsAsync(receiver, "message", 3)).Select(m => m["message"]!).ToDictionary(m => m["type"]!.GetValue<string>());
        Assert.Equal(["chat", "reaction", "revoked"], messages.Keys.Order());
        Assert.Equal("❤️", messages["reaction"]["body"]!.GetValue<string>());
        Assert.Equal(WaId(original), messages["reaction"]["reaction"]!["msgId"]!.GetValue<string>());
        Assert.Equal(WaId(original), messages["revoked"]["revokedId"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_default_subscription_gets_none_of_the_new_events()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        var original = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, from_lid = "120542636048510", message = "Hi" });
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, reaction_to = original, emoji = "👍" });
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, edit_of = original, message = "Hi!" });
        (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_call", new { instance_id = owner.InstanceId, from_number = Contact })).EnsureOk();
        (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_presence", new { instance_id = owner.InstanceId, from_number = Contact, state = "composing" })).EnsureOk();
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, revoke_of = original });

        await EventsAsync(receiver, "message", 3);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.All(receiver.Received, h => Assert.Equal("message", JsonNode.Parse(h.Body)!["event"]!.GetValue<string>()));
        Assert.Equal(3, (await owner.Client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Calls_are_sent_as_offer_missed_or_rejected_and_presence_with_its_state()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync("call", "presence");
        await using var _ = receiver;
        async Task CallAsync(string? status, bool video = false) =>
            (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_call", new { instance_id = owner.InstanceId, from_number = Contact, video, status })).EnsureOk();
        await CallAsync(null, video: true);
        await CallAsync("ringing");
        await CallAsync("timeout");
        await CallAsync("accept");
        await CallAsync("reject");
        (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_presence",
            new { instance_id = owner.InstanceId, from_lid = "120542636048510", state = "composing" })).EnsureOk();

        var calls = await EventsAsync(receiver, "call", 3);
        Assert.Equal(Envelope, calls[0].Select(p => p.Key));
        // Deliveries may arrive in any order: each call is told by its status.
        var byStatus = calls.Select(c => c["data"]!).ToDictionary(c => c["status"]!.GetValue<string>());
        Assert.Equal(["missed", "offer", "rejected"], byStatus.Keys.Order());
        Assert.True(byStatus["offer"]["video"]!.GetValue<bool>());
        Assert.False(byStatus["missed"]["video"]!.GetValue<bool>());
        Assert.Equal(Contact + "@c.us", byStatus["offer"]["from"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(byStatus["offer"]["id"]!.GetValue<string>()));

        var presence = Assert.Single(await EventsAsync(receiver, "presence", 1))["data"]!;
        Assert.Equal("composing", presence["state"]!.GetValue<string>());
        Assert.Equal("120542636048510@lid", presence["from"]!.GetValue<string>());
        Assert.Equal("120542636048510@lid", presence["from_lid"]!.GetValue<string>());
        Assert.Null(presence["from_phone"]);

        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(4, receiver.Received.Count);
        var refused = await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_presence", new { instance_id = owner.InstanceId, from_number = Contact, state = "dancing" });
        Assert.Equal(417, refused.Status);
        Assert.Equal("state", refused.ErrorField);
    }

    [Fact]
    public async Task A_new_lid_mapping_is_announced_once()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync("contact.lid");
        await using var _ = receiver;
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, from_lid = "120542636048510", message = "Hi" });
        await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, from_lid = "120542636048510", message = "Again" });

        var learned = Assert.Single(await EventsAsync(receiver, "contact.lid", 1));
        Assert.Equal(Envelope, learned.Select(p => p.Key));
        Assert.Equal("120542636048510@lid", learned["data"]!["lid"]!.GetValue<string>());
        Assert.Equal(Contact, learned["data"]!["number"]!.GetValue<string>());
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task Replies_carry_the_quoted_id_and_text()
    {
        app.SkipIfUnavailable();
        var (owner, receiver) = await SubscribedAsync();
        await using var _ = receiver;
        var theirs = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "Is the shop open?" });
        var ours = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = owner.InstanceId, to_number = Contact, message = "Yes, until 6" })).EnsureOk().Message!["id"]!.GetValue<string>();
        var replyToTheirs = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "I mean today", quoted_id = WaId(theirs) });
        var replyToOurs = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "Great", quoted_id = WaId(ours) });
        var replyToUnknown = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "?", quoted_id = "3EB0UNKNOWN" });
        var plain = await InjectAsync(owner, new { instance_id = owner.InstanceId, from_number = Contact, message = "plain" });

        var hooks = (await EventsAsync(receiver, "message", 5)).Select(h => h["message"]!).ToDictionary(m => m["id"]!.GetValue<string>());
        Assert.Equal(WaId(theirs), hooks[replyToTheirs]["quotedId"]!.GetValue<string>());
        Assert.Equal("Is the shop open?", hooks[replyToTheirs]["quotedBody"]!.GetValue<string>());
        Assert.True(hooks[replyToTheirs]["hasQuotedMsg"]!.GetValue<bool>());
        Assert.Equal("Yes, until 6", hooks[replyToOurs]["quotedBody"]!.GetValue<string>());
        Assert.Equal("3EB0UNKNOWN", hooks[replyToUnknown]["quotedId"]!.GetValue<string>());
        Assert.True(hooks[replyToUnknown].AsObject().ContainsKey("quotedBody"));
        Assert.Null(hooks[replyToUnknown]["quotedBody"]);
        Assert.False(hooks[plain]["hasQuotedMsg"]!.GetValue<bool>());
        Assert.False(hooks[plain].AsObject().ContainsKey("quotedBody"));
    }

    [Fact]
    public async Task Locations_contact_cards_and_polls_carry_whatsapp_web_js_types_and_fields()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var sender = await app.ConnectInstanceAsync(customer);
        var recipient = await app.ConnectInstanceAsync(customer);
        await using var receiver = await SubscribeAsync(recipient, []);

        await InjectAsync(recipient, new { instance_id = recipient.InstanceId, from_number = Contact, location = new { latitude = -3.3869, longitude = 36.683, name = "Arusha" } });
        await InjectAsync(recipient, new { instance_id = recipient.InstanceId, from_number = Contact, vcard = new { name = "Juma", number = "+255 712 345 678" } });
        (await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_poll", new
        {
            instance_id = sender.InstanceId, to_number = recipient.Phone, question = "Tea or coffee?", options = new[] { "Tea", "Coffee" }, multiple_answers = false,
        })).EnsureOk();

        var hooks = (await EventsAsync(receiver, "message", 3)).Select(h => h["message"]!).ToDictionary(m => m["type"]!.GetValue<string>());
        var location = hooks["location"]["location"]!;
        Assert.Equal(-3.3869, location["latitude"]!.GetValue<double>());
        Assert.Equal(36.683, location["longitude"]!.GetValue<double>());
        Assert.Equal("Arusha", location["description"]!.GetValue<string>());
        Assert.Contains("waid=255712345678", hooks["vcard"]["vCards"]![0]!.GetValue<string>());
        var poll = hooks["poll_creation"];
        Assert.Equal("Tea or coffee?", poll["pollName"]!.GetValue<string>());
        Assert.Equal(["Tea", "Coffee"], poll["pollOptions"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()));
        Assert.Equal([0, 1], poll["pollOptions"]!.AsArray().Select(o => o!["localId"]!.GetValue<int>()));
        Assert.False(poll["allowMultipleAnswers"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Get_webhook_lists_the_customers_instance_overrides_only()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var first = await app.ConnectInstanceAsync(customer);
        var second = await app.ConnectInstanceAsync(customer);
        await using var main = await SubscribeAsync(first, []);
        await using var firstOwn = await SubscribeAsync(first, ["message", "call"], first.InstanceId);
        await using var secondOwn = await SubscribeAsync(second, ["presence"], second.InstanceId);
        (await second.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = "", instance_id = second.InstanceId })).EnsureOk();
        var other = await app.CreateConnectedAsync();
        await using var otherOwn = await SubscribeAsync(other, ["message"], other.InstanceId);

        var settings = (await first.Client.CallAsync("wap_bridge.api.settings.get_webhook")).EnsureOk().Message!;
        Assert.Equal(main.Url, settings["url"]!.GetValue<string>());
        var listed = Assert.Single(settings["instances"]!.AsArray())!;
        Assert.Equal(first.InstanceId, listed["instance_id"]!.GetValue<string>());
        Assert.Equal(firstOwn.Url, listed["url"]!.GetValue<string>());
        Assert.Equal(["message", "call"], listed["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.True(listed["enabled"]!.GetValue<bool>());
        Assert.EndsWith(Secret[^4..], listed["secret_masked"]!.GetValue<string>());
        Assert.DoesNotContain(Secret, settings.ToJsonString());

        var own = (await other.Client.CallAsync("wap_bridge.api.settings.get_webhook")).EnsureOk().Message!;
        Assert.Equal(other.InstanceId, Assert.Single(own["instances"]!.AsArray())!["instance_id"]!.GetValue<string>());
        // An instance's own settings do not list the others.
        var single = (await first.Client.CallAsync("wap_bridge.api.settings.get_webhook", new { instance_id = first.InstanceId })).EnsureOk().Message!;
        Assert.Equal(firstOwn.Url, single["url"]!.GetValue<string>());
        Assert.Null(single["instances"]);
    }

    [Fact]
    public async Task An_instance_override_subscribes_its_own_events()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var first = await app.ConnectInstanceAsync(customer);
        var second = await app.ConnectInstanceAsync(customer);
        await using var main = await SubscribeAsync(first, []);
        await using var firstOwn = await SubscribeAsync(first, ["call"], first.InstanceId);
        (await first.Client.CallAsync("wap_bridge.api.simulator.inbound_call", new { instance_id = first.InstanceId, from_number = Contact })).EnsureOk();
        (await second.Client.CallAsync("wap_bridge.api.simulator.inbound_call", new { instance_id = second.InstanceId, from_number = Contact })).EnsureOk();

        var call = Assert.Single(await EventsAsync(firstOwn, "call", 1));
        Assert.Equal(first.InstanceId, call["instance_id"]!.GetValue<string>());
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Empty(main.Received);
    }
}

public sealed class SqliteConversationWebhookTests(SqliteWebhookApp app) : ConversationWebhookTests(app), IClassFixture<SqliteWebhookApp>;

public sealed class PostgresConversationWebhookTests(PostgresWebhookApp app) : ConversationWebhookTests(app), IClassFixture<PostgresWebhookApp>;
