using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Baileys;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The conversation side of the Baileys mapping both ways (issue #18): replies and mentions in inbound messages,
/// <c>call</c> and <c>presence</c> events (Fixtures/*.json in the shapes of PROTOCOL.md "Conversations"), and what a
/// send's conversation content becomes in the bridge's <c>send</c>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BaileysConversationMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static JsonElement Fixture(string name) =>
        JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", name + ".json")));

    private static InboundEngineMessage Map(string name, Func<string, string?>? phoneForLid = null) =>
        BaileysMessageMapper.MapMessage(Fixture(name).GetProperty("raw"), null, phoneForLid) ?? throw new Xunit.Sdk.XunitException($"{name} mapped to nothing");

    [Fact]
    public void A_reply_carries_the_quoted_id_and_the_quoted_text()
    {
        var reply = Map("extended-text-quote");
        Assert.Equal(("3EB0QUOTED0000000001", "Tuna mchele mpya"), (reply.QuotedId, reply.QuotedBody));
        Assert.Null(reply.Mentions);
        Assert.Null(Map("text").QuotedBody);
    }

    [Fact]
    public void A_captioned_image_reply_in_a_group_carries_its_mentions_as_numbers_or_LIDs_and_the_quoted_caption()
    {
        var message = Map("mentions-image-reply");
        Assert.Equal(("image", "3EB0QUOTED0000000002", "Bei gani?"), (message.Type, message.QuotedId, message.QuotedBody));
        Assert.Equal(["255755000002", "111122223333444@lid"], message.Mentions);
        Assert.Equal(("255712345678", "987654321012345@lid"), (message.FromPhone, message.FromLid));
    }

    [Fact]
    public void A_live_location_is_a_location_with_its_caption_and_reply()
    {
        var live = Map("live-location");
        Assert.Equal(("location", "Niko njiani"), (live.Type, live.Body));
        Assert.Equal((-6.8161, 39.2803), (live.Location!.Latitude, live.Location.Longitude));
        Assert.Equal(("3EB0QUOTED0000000003", "Uko wapi?"), (live.QuotedId, live.QuotedBody));
    }

    [Fact]
    public void A_call_from_a_LID_carries_the_callers_phone_from_fromAlt_and_WhatsApps_time()
    {
        var call = BaileysConversationMapper.MapCall("INST-01", Now, Fixture("call-lid"))!;
        Assert.Equal(new CallEvent("INST-01", DateTimeOffset.FromUnixTimeSeconds(1767791670), "CALL0000000000000000000000000001", "255712345678",
            "987654321012345@lid", IsVideo: true, IsGroup: false, "offer"), call);
    }

    [Fact]
    public void A_call_without_id_caller_or_status_is_no_event()
    {
        Assert.Null(BaileysConversationMapper.MapCall("INST-01", Now, JsonSerializer.SerializeToElement(new { from = "255712345678@s.whatsapp.net", status = "offer" })));
        Assert.Null(BaileysConversationMapper.MapCall("INST-01", Now, JsonSerializer.SerializeToElement(new { id = "C1", status = "offer" })));
        Assert.Null(BaileysConversationMapper.MapCall("INST-01", Now, JsonSerializer.SerializeToElement(new { id = "C1", from = "255712345678@s.whatsapp.net" })));
    }

    [Fact]
    public void Presence_names_the_chat_as_messages_do_and_the_participant_by_phone_when_the_LID_is_known()
    {
        var typing = BaileysConversationMapper.MapPresence("INST-01", Now, Fixture("presence-group"), lid => lid == "987654321012345@lid" ? "255712345678" : null)!;
        Assert.Equal(new PresenceEvent("INST-01", Now, "120363025246125486@g.us", "255712345678", "987654321012345@lid", "composing", null), typing);

        var away = BaileysConversationMapper.MapPresence("INST-01", Now, Fixture("presence-last-seen"))!;
        Assert.Equal(new PresenceEvent("INST-01", Now, "255712345678", "255712345678", null, "unavailable", DateTimeOffset.FromUnixTimeSeconds(1767790000)), away);
    }

    private static readonly EngineMessageKey Ours = new("3EB0OURS", "255712345678@s.whatsapp.net", true);

    public static TheoryData<string, string> Contents => new()
    {
        { nameof(OutgoingReaction), """{"reaction":{"key":{"id":"3EB0OURS","remoteJid":"255712345678@s.whatsapp.net","fromMe":true},"emoji":"👍"}}""" },
        { nameof(OutgoingLocation), """{"location":{"latitude":-6.7924,"longitude":39.2083,"name":"Kariakoo"}}""" },
        { nameof(OutgoingContacts), """{"contacts":[{"name":"Neema","number":"255755000002"}]}""" },
        { nameof(OutgoingPoll), """{"poll":{"name":"Siku gani?","options":["Jumatatu","Jumanne"],"selectableCount":1}}""" },
        { nameof(OutgoingEdit), """{"edit":{"key":{"id":"3EB0OURS","remoteJid":"255712345678@s.whatsapp.net","fromMe":true},"text":"Bei ni 4500"}}""" },
        { nameof(OutgoingDelete), """{"delete":{"key":{"id":"3EB0OURS","remoteJid":"255712345678@s.whatsapp.net","fromMe":true}}}""" },
    };

    private static OutgoingContent Content(string kind) => kind switch
    {
        nameof(OutgoingReaction) => new OutgoingReaction(Ours, "👍"),
        nameof(OutgoingLocation) => new OutgoingLocation(-6.7924, 39.2083, "Kariakoo", null),
        nameof(OutgoingContacts) => new OutgoingContacts([new OutgoingContact("Neema", "255755000002")]),
        nameof(OutgoingPoll) => new OutgoingPoll("Siku gani?", ["Jumatatu", "Jumanne"], 1),
        nameof(OutgoingEdit) => new OutgoingEdit(Ours, "Bei ni 4500"),
        _ => new OutgoingDelete(Ours),
    };

    [Theory]
    [MemberData(nameof(Contents))]
    public void Each_content_kind_is_the_one_send_field_PROTOCOL_md_names(string kind, string expected)
    {
        var parameters = new JsonObject();
        BaileysConversationContent.AddContent(parameters, Content(kind));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), parameters), parameters.ToJsonString());
    }

    [Fact]
    public void A_quoted_text_is_sent_as_a_conversation_proto_and_a_group_key_names_its_author()
    {
        var text = new string('x', 200) + " ✓";
        var proto = BaileysConversationContent.ConversationProto(text);
        var body = Encoding.UTF8.GetBytes(text);
        // Field 1, length-delimited, a two-byte varint length (over 127), then the UTF-8 text.
        Assert.Equal([0x0A, (byte)(body.Length & 0x7F | 0x80), (byte)(body.Length >> 7), .. body], proto);

        var quoted = BaileysConversationContent.Quoted(new EngineQuote(new EngineMessageKey("3EB0THEIRS", "1203@g.us", false, "255712345678@s.whatsapp.net"), "hi"), proto);
        Assert.Equal(("3EB0THEIRS", "1203@g.us", false, "255712345678@s.whatsapp.net", Convert.ToBase64String(proto)),
            (quoted["id"]!.GetValue<string>(), quoted["remoteJid"]!.GetValue<string>(), quoted["fromMe"]!.GetValue<bool>(), quoted["participant"]!.GetValue<string>(),
                quoted["content"]!.GetValue<string>()));
    }

    [Fact]
    public void Reactions_and_deletes_take_no_mentions_and_only_text_media_and_new_content_take_a_quote()
    {
        Assert.False(BaileysConversationContent.TakesMentions(new OutgoingReaction(Ours, "👍")));
        Assert.False(BaileysConversationContent.TakesMentions(new OutgoingDelete(Ours)));
        Assert.True(BaileysConversationContent.TakesMentions(new OutgoingEdit(Ours, "x")));
        Assert.True(BaileysConversationContent.TakesMentions(null));
        Assert.False(BaileysConversationContent.TakesQuote(new OutgoingEdit(Ours, "x")));
        Assert.True(BaileysConversationContent.TakesQuote(new OutgoingPoll("q", ["a", "b"], 0)));
    }

    [Theory]
    [InlineData("not_connected")]
    [InlineData("bridge_exited")]
    [InlineData("unknown_session")]
    public void A_send_the_bridge_could_not_take_because_the_session_is_down_is_retried_as_not_connected(string code)
    {
        var result = BaileysSendPath.SendFailure(new BridgeException(code, "The WhatsApp session is not connected."));
        Assert.Equal("not_connected", result.ErrorCode);
        Assert.Equal(Core.Messaging.SendFailureAction.Retry, Core.Messaging.SendFailurePolicy.Decide(result.ErrorCode).Action);
    }
}
