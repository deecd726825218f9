using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>
/// Contract §9 "Richer sends" over HTTP on the simulator: two instances of one customer talk to each other, so what one
/// sends is what the other receives; a second customer proves every id is scoped to its owner.
/// </summary>
public abstract class ConversationSendTests(WapBridgeApp app)
{
    private const string Method = "wap_bridge.api.whatsapp.";

    private sealed record Pair(SendingCustomer Alice, SendingCustomer Bob);

    private async Task<Pair> PairAsync()
    {
        var alice = await app.CreateConnectedAsync();
        return new Pair(alice, await app.ConnectInstanceAsync(alice.Customer));
    }

    private static async Task<JsonNode> SendAsync(SendingCustomer from, string method, object args) =>
        (await from.Client.CallAsync(Method + method, args)).EnsureOk().Message!;

    /// <summary>Alice's text to Bob: her id for it, and Bob's id for the same message once it arrived.</summary>
    private static async Task<(string Sent, string Received)> TextAsync(SendingCustomer from, SendingCustomer to, string text)
    {
        var sent = (await SendAsync(from, "send_api_message", new { instance_id = from.InstanceId, to_number = to.Phone, message = text }))["id"]!.GetValue<string>();
        var received = await InboundAsync(to, m => m["body"]?.GetValue<string>() == text);
        return (sent, received["id"]!.GetValue<string>());
    }

    private static async Task<JsonNode> InboundAsync(SendingCustomer owner, Func<JsonNode, bool> match, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var page = (await owner.Client.CallAsync(Method + "list_messages", new { instance_id = owner.InstanceId, direction = "inbound", limit = 500 })).EnsureOk().Message!;
            if (page["data"]!.AsArray().FirstOrDefault(m => match(m!)) is { } found)
                return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the expected inbound message never arrived: " + page.ToJsonString());
            await Task.Delay(50);
        }
    }

    private async Task<Message> RowAsync(string serializedId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Messages.AsNoTracking().SingleAsync(m => m.SerializedId == serializedId);
    }

    private async Task<T> WaitForRowAsync<T>(string serializedId, Func<Message, T?> read) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (read(await RowAsync(serializedId)) is { } value)
                return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"row {serializedId} never reached the expected state");
            await Task.Delay(50);
        }
    }

    private async Task BackdateAsync(string serializedId, TimeSpan by)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var row = await db.Messages.SingleAsync(m => m.SerializedId == serializedId);
        row.CreatedAt -= by;
        row.SentAt -= by;
        await db.SaveChangesAsync();
    }

    private static void AssertError(ApiAnswer answer, int status, string excType, string? field, string? code = null)
    {
        Assert.Equal(status, answer.Status);
        Assert.Equal(excType, answer.ExcType);
        if (field is not null) Assert.Equal(field, answer.ErrorField);
        if (code is not null) Assert.Equal(code, answer.ErrorCode);
    }

    private static string WaId(string serializedId) => serializedId.Split('_')[2];

    [Fact]
    public async Task A_reply_quotes_the_message_and_names_its_mentions()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, received) = await TextAsync(alice, bob, "Lunch at noon?");

        var reply = await SendAsync(bob, "send_api_message", new
        {
            instance_id = bob.InstanceId, to_number = alice.Phone, message = $"Yes @{alice.Phone}", quoted_id = received, mentions = new[] { "+" + alice.Phone },
        });
        Assert.Equal("sent", reply["status"]!.GetValue<string>());
        var row = await RowAsync(reply["id"]!.GetValue<string>());
        Assert.Equal(WaId(sent), row.QuotedId);
        Assert.Equal(alice.Phone, row.Mentions);
        Assert.Equal(alice.Phone, row.Chat);

        // Alice's phone shows it as a reply to her message.
        var arrived = await InboundAsync(alice, m => m["body"]?.GetValue<string>() == $"Yes @{alice.Phone}");
        Assert.Equal(WaId(sent), (await RowAsync(arrived["id"]!.GetValue<string>())).QuotedId);
    }

    [Fact]
    public async Task Quoting_an_unknown_or_another_chats_or_another_customers_message_is_404_naming_quoted_id()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, _) = await TextAsync(alice, bob, "quote me");
        var mallory = await app.CreateConnectedAsync();

        AssertError(await alice.Client.CallAsync(Method + "send_api_message",
            new { instance_id = alice.InstanceId, to_number = bob.Phone, message = "re", quoted_id = "true_255700000001@c.us_3EB0FFFFFFFFFFFFFFFF" }),
            404, "DoesNotExistError", "quoted_id");
        // The message exists, but in Alice's chat with Bob, not with this number.
        AssertError(await alice.Client.CallAsync(Method + "send_api_message",
            new { instance_id = alice.InstanceId, to_number = "255755123456", message = "re", quoted_id = sent }),
            404, "DoesNotExistError", "quoted_id");
        AssertError(await mallory.Client.CallAsync(Method + "send_api_message",
            new { instance_id = mallory.InstanceId, to_number = bob.Phone, message = "re", quoted_id = sent }),
            404, "DoesNotExistError", "quoted_id");
    }

    [Fact]
    public async Task A_group_id_is_a_recipient_and_bad_mentions_or_group_ids_are_417()
    {
        app.SkipIfUnavailable();
        var alice = await app.CreateConnectedAsync();

        var sent = await SendAsync(alice, "send_api_message", new { instance_id = alice.InstanceId, to_number = "120363041234567890@g.us", message = "Hello group" });
        Assert.Equal("120363041234567890@g.us", sent["to"]!.GetValue<string>());
        Assert.StartsWith("true_120363041234567890@g.us_", sent["id"]!.GetValue<string>());
        await alice.Client.WaitForMessageAsync(sent["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read");
        Assert.Equal("120363041234567890@g.us", (await RowAsync(sent["id"]!.GetValue<string>())).Chat);
        (await alice.Client.CallAsync(Method + "send_api_message",
            new { instance_id = alice.InstanceId, to_number = "255712345678-1599999999@g.us", message = "old-style group id" })).EnsureOk();

        AssertError(await alice.Client.CallAsync(Method + "send_api_message", new { instance_id = alice.InstanceId, to_number = "family@g.us", message = "x" }),
            417, "ValidationError", "to_number");
        AssertError(await alice.Client.CallAsync(Method + "send_api_message",
            new { instance_id = alice.InstanceId, to_number = "255755123456", message = "hi @255", mentions = new[] { "255755123456", "12345" } }),
            417, "ValidationError", "mentions[1]");
    }

    [Fact]
    public async Task A_reaction_reaches_the_author_and_walks_to_read()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, received) = await TextAsync(alice, bob, "Good news!");

        var reaction = await SendAsync(bob, "send_reaction", new { id = received, emoji = "👍🏽" });
        Assert.True(reaction["ok"]!.GetValue<bool>());
        Assert.Equal(bob.InstanceId, reaction["instance_id"]!.GetValue<string>());
        Assert.Equal(alice.Phone, reaction["to"]!.GetValue<string>());
        var status = await bob.Client.WaitForMessageAsync(reaction["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() == "read");
        Assert.Equal("reaction", status["type"]!.GetValue<string>());

        var arrived = await InboundAsync(alice, m => m["type"]!.GetValue<string>() == "reaction");
        Assert.Equal("👍🏽", arrived["body"]!.GetValue<string>());
        Assert.Equal(WaId(sent), (await RowAsync(arrived["id"]!.GetValue<string>())).TargetId);

        // "" takes the reaction back.
        (await bob.Client.CallAsync(Method + "send_reaction", new { id = received, emoji = "" })).EnsureOk();
    }

    [Theory]
    [InlineData("ok")]
    [InlineData("👍👍")]
    [InlineData("7")]
    public async Task A_reaction_that_is_not_one_emoji_is_417_naming_emoji(string emoji)
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, _) = await TextAsync(alice, bob, "react to me " + emoji);
        AssertError(await alice.Client.CallAsync(Method + "send_reaction", new { id = sent, emoji }), 417, "ValidationError", "emoji", "invalid_emoji");
    }

    [Fact]
    public async Task Another_customer_cannot_react_to_edit_delete_or_mark_read_a_message_404()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, received) = await TextAsync(alice, bob, "private");
        var mallory = await app.CreateConnectedAsync();

        AssertError(await mallory.Client.CallAsync(Method + "send_reaction", new { id = sent, emoji = "😈" }), 404, "DoesNotExistError", "id");
        AssertError(await mallory.Client.CallAsync(Method + "edit_message", new { id = sent, message = "hacked" }), 404, "DoesNotExistError", "id");
        AssertError(await mallory.Client.CallAsync(Method + "delete_message", new { id = sent, for_everyone = true }), 404, "DoesNotExistError", "id");
        AssertError(await mallory.Client.CallAsync(Method + "delete_message", new { id = received }), 404, "DoesNotExistError", "id");
        AssertError(await mallory.Client.CallAsync(Method + "mark_read", new { id = received }), 404, "DoesNotExistError", "id");
        AssertError(await mallory.Client.CallAsync(Method + "mark_read", new { instance_id = bob.InstanceId, chat = alice.Phone }), 404, "DoesNotExistError", "instance_id");
        AssertError(await mallory.Client.CallAsync(Method + "send_presence", new { instance_id = bob.InstanceId, to_number = alice.Phone, state = "composing" }),
            404, "DoesNotExistError", "instance_id");
        AssertError(await alice.Client.CallAsync(Method + "send_reaction", new { id = "true_255755123456@c.us_3EB0FFFFFFFFFFFFFFFF", emoji = "👍" }),
            404, "DoesNotExistError", "id");

        Assert.Equal("private", (await RowAsync(sent)).Body);
        Assert.Null((await RowAsync(received)).ReadAt);
    }

    [Fact]
    public async Task A_location_is_sent_with_its_status_and_arrives_as_a_location()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();

        var sent = await SendAsync(alice, "send_location",
            new { instance_id = alice.InstanceId, to_number = bob.Phone, latitude = -6.7924, longitude = 39.2083, name = "Kariakoo Market", address = "Dar es Salaam" });
        var status = await alice.Client.WaitForMessageAsync(sent["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() == "read");
        Assert.Equal("location", status["type"]!.GetValue<string>());
        var row = await RowAsync(sent["id"]!.GetValue<string>());
        Assert.Equal(new LocationContent(-6.7924, 39.2083, "Kariakoo Market", "Dar es Salaam"), MessageContent.Read<LocationContent>(row.Content));

        var arrived = await InboundAsync(bob, m => m["type"]!.GetValue<string>() == "location");
        Assert.Equal("Kariakoo Market", arrived["body"]!.GetValue<string>());
        Assert.Equal(-6.7924, MessageContent.Read<LocationContent>((await RowAsync(arrived["id"]!.GetValue<string>())).Content)!.Latitude);

        AssertError(await alice.Client.CallAsync(Method + "send_location", new { instance_id = alice.InstanceId, to_number = bob.Phone, latitude = 91, longitude = 0 }),
            417, "ValidationError", "latitude");
        AssertError(await alice.Client.CallAsync(Method + "send_location", new { instance_id = alice.InstanceId, to_number = bob.Phone, latitude = 0, longitude = -180.5 }),
            417, "ValidationError", "longitude");
        AssertError(await alice.Client.CallAsync(Method + "send_location", new { instance_id = alice.InstanceId, to_number = bob.Phone, longitude = 1 }),
            417, "ValidationError", "latitude");
    }

    [Fact]
    public async Task Contacts_arrive_as_vcards_and_bad_lists_are_417()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();

        var sent = await SendAsync(alice, "send_contact", new
        {
            instance_id = alice.InstanceId, to_number = bob.Phone,
            contacts = new[] { new { name = "Asha", number = "+255 755 123 456" }, new { name = "Juma", number = "255712345678" } },
        });
        Assert.Equal("multi_vcard", (await alice.Client.WaitForMessageAsync(sent["id"]!.GetValue<string>(), _ => true))["type"]!.GetValue<string>());
        var arrived = await InboundAsync(bob, m => m["type"]!.GetValue<string>() == "multi_vcard");
        Assert.Contains("waid=255755123456", arrived["body"]!.GetValue<string>());

        var one = await SendAsync(alice, "send_contact", new { instance_id = alice.InstanceId, to_number = bob.Phone, contacts = new[] { new { name = "Asha", number = "255755123456" } } });
        Assert.Equal("vcard", (await RowAsync(one["id"]!.GetValue<string>())).Type);

        AssertError(await alice.Client.CallAsync(Method + "send_contact", new { instance_id = alice.InstanceId, to_number = bob.Phone, contacts = Array.Empty<object>() }),
            417, "ValidationError", "contacts");
        AssertError(await alice.Client.CallAsync(Method + "send_contact", new
        {
            instance_id = alice.InstanceId, to_number = bob.Phone,
            contacts = Enumerable.Range(0, 11).Select(i => new { name = "C" + i, number = "255755123456" }).ToArray(),
        }), 417, "ValidationError", "contacts", "too_many");
        AssertError(await alice.Client.CallAsync(Method + "send_contact", new
        {
            instance_id = alice.InstanceId, to_number = bob.Phone,
            contacts = new[] { new { name = "Asha", number = "255755123456" }, new { name = "Bad", number = "12345" } },
        }), 417, "ValidationError", "contacts[1].number");
    }

    [Fact]
    public async Task A_poll_has_a_status_and_arrives_with_its_options()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();

        var sent = await SendAsync(alice, "send_poll", new
        {
            instance_id = alice.InstanceId, to_number = bob.Phone, question = "Which day?", options = new[] { "Monday", "Tuesday", "Friday" }, multiple_answers = true,
        });
        var status = await alice.Client.WaitForMessageAsync(sent["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() == "read");
        Assert.Equal("poll_creation", status["type"]!.GetValue<string>());
        Assert.Equal("Which day?", status["body"]!.GetValue<string>());
        var arrived = await InboundAsync(bob, m => m["type"]!.GetValue<string>() == "poll_creation");
        var poll = MessageContent.Read<PollContent>((await RowAsync(arrived["id"]!.GetValue<string>())).Content)!;
        Assert.Equal(["Monday", "Tuesday", "Friday"], poll.Options);
        Assert.True(poll.MultipleAnswers);

        object Poll(params string[] options) => new { instance_id = alice.InstanceId, to_number = bob.Phone, question = "Q?", options };
        AssertError(await alice.Client.CallAsync(Method + "send_poll", Poll("only one")), 417, "ValidationError", "options", "out_of_range");
        AssertError(await alice.Client.CallAsync(Method + "send_poll", Poll(Enumerable.Range(0, 13).Select(i => "o" + i).ToArray())), 417, "ValidationError", "options");
        AssertError(await alice.Client.CallAsync(Method + "send_poll", Poll("Yes", "Yes")), 417, "ValidationError", "options", "duplicate_option");
        AssertError(await alice.Client.CallAsync(Method + "send_poll", Poll("Yes", " ")), 417, "ValidationError", "options[1]");
        AssertError(await alice.Client.CallAsync(Method + "send_poll", new { instance_id = alice.InstanceId, to_number = bob.Phone, options = new[] { "a", "b" } }),
            417, "ValidationError", "question");
    }

    [Fact]
    public async Task An_edit_changes_the_text_on_both_phones_and_only_own_text_messages_can_be_edited()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, received) = await TextAsync(alice, bob, "See you at 5");

        var edit = await SendAsync(alice, "edit_message", new { id = sent, message = "See you at 6" });
        Assert.Equal("edit", (await alice.Client.WaitForMessageAsync(edit["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() != "queued"))["type"]!.GetValue<string>());
        Assert.Equal("See you at 6", await WaitForRowAsync(sent, m => m.Body == "See you at 6" ? m.Body : null));
        Assert.Equal("See you at 6", await WaitForRowAsync(received, m => m.Body == "See you at 6" ? m.Body : null));

        AssertError(await bob.Client.CallAsync(Method + "edit_message", new { id = received, message = "not mine" }), 409, "DuplicateEntryError", "id", "not_own_message");
        var location = await SendAsync(alice, "send_location", new { instance_id = alice.InstanceId, to_number = bob.Phone, latitude = 1, longitude = 1 });
        AssertError(await alice.Client.CallAsync(Method + "edit_message", new { id = location["id"]!.GetValue<string>(), message = "x" }),
            409, "DuplicateEntryError", "id", "not_a_text_message");
        AssertError(await alice.Client.CallAsync(Method + "edit_message", new { id = sent, message = " " }), 417, "ValidationError", "message");
    }

    [Fact]
    public async Task An_edit_after_15_minutes_is_409()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, _) = await TextAsync(alice, bob, "typo here");
        await BackdateAsync(sent, TimeSpan.FromMinutes(14));
        (await alice.Client.CallAsync(Method + "edit_message", new { id = sent, message = "still in time" })).EnsureOk();

        await BackdateAsync(sent, TimeSpan.FromMinutes(2));
        AssertError(await alice.Client.CallAsync(Method + "edit_message", new { id = sent, message = "too late" }), 409, "DuplicateEntryError", "id", "edit_window_passed");
    }

    [Fact]
    public async Task Delete_for_everyone_revokes_on_both_phones_and_delete_for_me_forgets_the_message()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, received) = await TextAsync(alice, bob, "oops, wrong chat");

        var revoke = await SendAsync(alice, "delete_message", new { id = sent, for_everyone = true });
        Assert.NotNull(revoke["id"]);
        Assert.Equal("revoke", (await alice.Client.WaitForMessageAsync(revoke["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() != "queued"))["type"]!.GetValue<string>());
        Assert.Null((await WaitForRowAsync(sent, m => m.Type == "revoked" ? m : null)).Body);
        Assert.Null((await WaitForRowAsync(received, m => m.Type == "revoked" ? m : null)).Body);

        // Bob cannot delete Alice's message for everyone, only for himself.
        var (_, other) = await TextAsync(alice, bob, "keep or delete");
        AssertError(await bob.Client.CallAsync(Method + "delete_message", new { id = other, for_everyone = true }), 409, "DuplicateEntryError", "id", "not_own_message");
        var forMe = (await bob.Client.CallAsync(Method + "delete_message", new { id = other })).EnsureOk().Message!;
        Assert.Equal("""{"ok":true}""", forMe.ToJsonString());
        AssertError(await bob.Client.CallAsync(Method + "message_status", new { id = other }), 404, "DoesNotExistError", "id");
        Assert.Contains("delete_for_me:" + WaId(other), app.Services.GetRequiredService<SimulatorNetwork>().Actions(bob.InstanceId));
    }

    [Fact]
    public async Task Delete_for_everyone_after_two_days_is_409()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (sent, _) = await TextAsync(alice, bob, "old news");
        await BackdateAsync(sent, TimeSpan.FromDays(2) + TimeSpan.FromMinutes(1));
        AssertError(await alice.Client.CallAsync(Method + "delete_message", new { id = sent, for_everyone = true }), 409, "DuplicateEntryError", "id", "delete_window_passed");
        Assert.Equal("old news", (await RowAsync(sent)).Body);
    }

    [Fact]
    public async Task Mark_read_marks_the_chat_up_to_now_or_up_to_a_message()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        var (_, first) = await TextAsync(alice, bob, "one");
        var (_, second) = await TextAsync(alice, bob, "two");
        var (_, third) = await TextAsync(alice, bob, "three");

        var upToSecond = (await bob.Client.CallAsync(Method + "mark_read", new { id = second })).EnsureOk().Message!;
        Assert.Equal(2, upToSecond["marked"]!.GetValue<int>());
        Assert.NotNull((await RowAsync(first)).ReadAt);
        Assert.Null((await RowAsync(third)).ReadAt);
        Assert.Contains("read:" + WaId(second), app.Services.GetRequiredService<SimulatorNetwork>().Actions(bob.InstanceId));

        var rest = (await bob.Client.CallAsync(Method + "mark_read", new { instance_id = bob.InstanceId, chat = "+" + alice.Phone })).EnsureOk().Message!;
        Assert.True(rest["ok"]!.GetValue<bool>());
        Assert.Equal(1, rest["marked"]!.GetValue<int>());
        Assert.NotNull((await RowAsync(third)).ReadAt);

        AssertError(await bob.Client.CallAsync(Method + "mark_read", new { }), 417, "ValidationError", "id");
        AssertError(await bob.Client.CallAsync(Method + "mark_read", new { instance_id = bob.InstanceId }), 417, "ValidationError", "chat");
    }

    [Fact]
    public async Task Presence_reaches_the_session_and_a_bad_state_is_417()
    {
        app.SkipIfUnavailable();
        var alice = await app.CreateConnectedAsync();
        var answer = (await alice.Client.CallAsync(Method + "send_presence", new { instance_id = alice.InstanceId, to_number = "255755123456", state = "composing" })).EnsureOk().Message!;
        Assert.Equal("""{"ok":true}""", answer.ToJsonString());
        Assert.Contains("presence:255755123456@s.whatsapp.net:composing", app.Services.GetRequiredService<SimulatorNetwork>().Actions(alice.InstanceId));

        AssertError(await alice.Client.CallAsync(Method + "send_presence", new { instance_id = alice.InstanceId, to_number = "255755123456", state = "typing" }),
            417, "ValidationError", "state");
        AssertError(await alice.Client.CallAsync(Method + "send_presence", new { instance_id = alice.InstanceId, to_number = "123", state = "paused" }),
            417, "ValidationError", "to_number");
    }

    [Fact]
    public async Task A_poll_is_persisted_queued_before_the_engine_sees_it_and_sent_on_reconnect()
    {
        app.SkipIfUnavailable();
        var (alice, bob) = await PairAsync();
        await app.Services.GetRequiredService<SimulatorNetwork>().DropConnectionAsync(alice.InstanceId, TestContext.Current.CancellationToken);

        var sent = await SendAsync(alice, "send_poll", new { instance_id = alice.InstanceId, to_number = bob.Phone, question = "Offline?", options = new[] { "Yes", "No" } });
        Assert.Equal("queued", sent["status"]!.GetValue<string>());
        // The row is committed before the answer, while the engine has not had it: nobody received anything yet.
        var row = await RowAsync(sent["id"]!.GetValue<string>());
        Assert.Equal("poll_creation", row.Type);
        Assert.Equal(0, row.Attempts);
        Assert.Equal(["Yes", "No"], MessageContent.Read<PollContent>(row.Content)!.Options);

        await alice.Client.WaitForMessageAsync(sent["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() is "delivered" or "read", seconds: 20);
        await InboundAsync(bob, m => m["type"]!.GetValue<string>() == "poll_creation" && m["body"]!.GetValue<string>() == "Offline?");
    }
}

public sealed class SqliteConversationSendTests(SqliteMessagingApp app) : ConversationSendTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresConversationSendTests(PostgresMessagingApp app) : ConversationSendTests(app), IClassFixture<PostgresMessagingApp>;
