using System.Text.Json;
using System.Text.Json.Nodes;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>Meta's <c>messages</c> webhook in our inbound model: every message kind, statuses with Meta's codes, other numbers left out.</summary>
[Trait("Category", "Unit")]
public sealed class CloudApiWebhookMapperTests
{
    private const string Number = "106540352242922";
    private const string From = "16505551234";
    private static readonly DateTimeOffset Received = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static CloudApiWebhook Parse(JsonObject payload) => CloudApiWebhookMapper.Parse(payload.ToJsonString(), Number, Received);

    private static CloudApiInbound One(JsonObject message) => Assert.Single(Parse(MetaWebhooks.Inbound(Number, "Sheena Nelson", message)).Messages);

    [Fact]
    public void Text_is_chat_from_the_senders_number_with_their_profile_name_and_metas_time()
    {
        var wamid = MetaWebhooks.NewWamid();
        var inbound = One(MetaWebhooks.Text(From, "Does it come in another color?", wamid, timestamp: 1749416383));

        var m = inbound.Message;
        Assert.Equal((wamid, From, (string?)null, "Sheena Nelson", (string?)null, "chat", "Does it come in another color?"),
            (m.Id, m.FromPhone, m.FromLid, m.PushName, m.GroupId, m.Type, m.Body));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1749416383), m.Timestamp);
        Assert.Null(inbound.Media);
        Assert.Null(m.QuotedId);
    }

    [Theory]
    [InlineData("image", "image/jpeg", false, "image")]
    [InlineData("video", "video/mp4", false, "video")]
    [InlineData("audio", "audio/mpeg", false, "audio")]
    [InlineData("audio", "audio/ogg; codecs=opus", true, "ptt")]
    [InlineData("sticker", "image/webp", false, "sticker")]
    [InlineData("document", "application/pdf", false, "document")]
    public void Media_names_its_graph_media_and_keeps_the_caption_as_body(string kind, string mime, bool voice, string type)
    {
        var fileName = kind == "document" ? "invoice.pdf" : null;
        var inbound = One(MetaWebhooks.Media(From, kind, "1234567890", mime, caption: "see this", fileName: fileName, voice: voice));

        Assert.Equal((type, "see this"), (inbound.Message.Type, inbound.Message.Body));
        Assert.Equal(new CloudApiMediaRef("1234567890", mime, fileName, kind), inbound.Media);
    }

    [Fact]
    public void Location_keeps_coordinates_name_and_address()
    {
        var m = One(MetaWebhooks.Location(From, -6.7924, 39.2083, "Kariakoo Market", "Dar es Salaam")).Message;

        Assert.Equal(("location", "Kariakoo Market"), (m.Type, m.Body));
        Assert.Equal(new EngineLocation(-6.7924, 39.2083, "Kariakoo Market", "Dar es Salaam", null), m.Location);
    }

    [Fact]
    public void Contacts_become_vcards_with_the_whatsapp_number()
    {
        var one = One(MetaWebhooks.Contacts(From, ("Asha Juma", "255755123456"))).Message;
        Assert.Equal("vcard", one.Type);
        var card = Assert.Single(one.VCards!);
        Assert.Equal(card, one.Body);
        Assert.StartsWith("BEGIN:VCARD\nVERSION:3.0\n", card, StringComparison.Ordinal);
        Assert.Contains("\nFN:Asha Juma\n", card, StringComparison.Ordinal);
        Assert.Contains("\nTEL;type=CELL;waid=255755123456:+255755123456\n", card, StringComparison.Ordinal);
        Assert.EndsWith("END:VCARD", card, StringComparison.Ordinal);

        var two = One(MetaWebhooks.Contacts(From, ("Asha Juma", "255755123456"), ("Juma; Jr, \"Boss\"", "255755654321"))).Message;
        Assert.Equal(("multi_vcard", 2), (two.Type, two.VCards!.Count));
        // A value cannot break the card: separators are escaped.
        Assert.Contains("\nFN:Juma\\; Jr\\, \"Boss\"\n", two.VCards[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Interactive_and_template_button_replies_are_chat_with_the_tapped_title_and_keep_the_id()
    {
        var quoted = MetaWebhooks.NewWamid();
        var button = One(MetaWebhooks.ButtonReply(From, "confirm-42", "Yes, confirm", replyTo: quoted)).Message;
        Assert.Equal(("chat", "Yes, confirm", "confirm-42", (string?)null, quoted), (button.Type, button.Body, button.SelectedButtonId, button.SelectedRowId, button.QuotedId));

        var row = One(MetaWebhooks.ListReply(From, "size-m", "Medium")).Message;
        Assert.Equal(("chat", "Medium", (string?)null, "size-m"), (row.Type, row.Body, row.SelectedButtonId, row.SelectedRowId));

        var template = One(MetaWebhooks.TemplateButton(From, "STOP_PROMOS", "Stop promotions")).Message;
        Assert.Equal(("chat", "Stop promotions", "STOP_PROMOS"), (template.Type, template.Body, template.SelectedButtonId));
    }

    [Fact]
    public void Reaction_names_the_reacted_message_and_a_removal_has_an_empty_emoji()
    {
        var target = MetaWebhooks.NewWamid();
        var added = One(MetaWebhooks.Reaction(From, target, "👍")).Message;
        Assert.Equal(("reaction", "👍", new EngineReaction("👍", target)), (added.Type, added.Body, added.Reaction));

        var removed = One(MetaWebhooks.Reaction(From, target, null)).Message;
        Assert.Equal(new EngineReaction("", target), removed.Reaction);
    }

    [Fact]
    public void Unsupported_kinds_are_announced_as_unknown_not_lost()
    {
        var message = MetaWebhooks.Text(From, "x");
        message["type"] = "unsupported";
        message.Remove("text");
        message["errors"] = new JsonArray(new JsonObject { ["code"] = 131051, ["title"] = "Message type unknown" });

        Assert.Equal("unknown", One(message).Message.Type);
    }

    [Fact]
    public void Changes_for_another_number_of_the_app_and_senders_that_are_not_numbers_are_left_out()
    {
        var other = MetaWebhooks.Inbound("999999999999999", null, MetaWebhooks.Text(From, "not for us"));
        Assert.Empty(Parse(other).Messages);

        Assert.Empty(Parse(MetaWebhooks.Inbound(Number, null, MetaWebhooks.Text("not-a-number", "x"))).Messages);
        Assert.Empty(Parse(MetaWebhooks.Statuses("999999999999999", MetaWebhooks.Status(MetaWebhooks.NewWamid(), "read", From))).Statuses);
        Assert.ThrowsAny<JsonException>(() => CloudApiWebhookMapper.Parse("{not json", Number, Received));
    }

    [Fact]
    public void Statuses_map_to_acks_and_a_failure_carries_our_reason_and_metas_words()
    {
        var wamid = MetaWebhooks.NewWamid();
        var statuses = Parse(MetaWebhooks.Statuses(Number,
            MetaWebhooks.Status(wamid, "sent", From, 1749416400),
            MetaWebhooks.Status(wamid, "delivered", From),
            MetaWebhooks.Status(wamid, "read", From),
            MetaWebhooks.Failed(wamid, From, 131047, "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
            MetaWebhooks.Failed(wamid, From, 131026, "Message undeliverable"),
            MetaWebhooks.Status(wamid, "deleted", From))).Statuses;

        Assert.Equal([MessageAck.Server, MessageAck.Device, MessageAck.Read, MessageAck.Error, MessageAck.Error], statuses.Select(s => s.Ack));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1749416400), statuses[0].At);
        Assert.All(statuses, s => Assert.Equal(wamid, s.Wamid));
        Assert.Equal(("template_required",
                "Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number. (Meta error 131047)"),
            (statuses[3].ErrorCode, statuses[3].Error));
        Assert.Equal(("undeliverable", "Message undeliverable (Meta error 131026)"), (statuses[4].ErrorCode, statuses[4].Error));
        Assert.Null(statuses[0].ErrorCode);
    }

    [Fact]
    public void Complete_puts_our_ids_for_wamids_and_a_wamid_too_long_for_our_columns_becomes_a_stable_id()
    {
        var ourSent = MetaWebhooks.NewWamid();
        var theirs = MetaWebhooks.NewWamid();
        var known = new Dictionary<string, string> { [ourSent] = "3EB0AAAABBBBCCCCDDDD" };

        var reply = CloudApiWebhookMapper.Complete(One(MetaWebhooks.Text(From, "ok", replyTo: ourSent)), known, null, null);
        Assert.Equal("3EB0AAAABBBBCCCCDDDD", reply.QuotedId);
        var reaction = CloudApiWebhookMapper.Complete(One(MetaWebhooks.Reaction(From, theirs, "❤️")), known, null, null);
        Assert.Equal(theirs, reaction.Reaction!.TargetId);

        var longWamid = "wamid.HBgNNTUxMTk5ODg3NzY2NhUCABIYIDI0QjY2RjQ1RjIxRTYzNzk2MTBDRDM2QkUzRjM5NkU1AA==";
        var first = CloudApiWebhookMapper.Complete(One(MetaWebhooks.Text(From, "long", longWamid)), known, null, null);
        var again = CloudApiWebhookMapper.Complete(One(MetaWebhooks.Text(From, "long", longWamid)), known, null, null);
        Assert.True(first.Id.Length <= CloudApiWebhookMapper.MaxIdLength);
        Assert.Equal((first.Id, longWamid), (again.Id, first.EngineMessageId));
        var shortOne = CloudApiWebhookMapper.Complete(One(MetaWebhooks.Text(From, "short", theirs)), known, null, null);
        Assert.Equal((theirs, (string?)null), (shortOne.Id, shortOne.EngineMessageId));
    }

    [Fact]
    public void Complete_gives_media_or_the_reason_it_is_missing()
    {
        var inbound = One(MetaWebhooks.Media(From, "image", "55", "image/jpeg", caption: "pic"));
        var file = new EngineMedia([1, 2, 3], "image/jpeg", null);

        Assert.Same(file, CloudApiWebhookMapper.Complete(inbound, new Dictionary<string, string>(), file, null).Media);
        var failed = CloudApiWebhookMapper.Complete(inbound, new Dictionary<string, string>(), null, "media 55 is larger than 5242880 bytes");
        Assert.Equal((null, "media 55 is larger than 5242880 bytes"), (failed.Media, failed.MediaError));
        Assert.Null(CloudApiWebhookMapper.Complete(One(MetaWebhooks.Text(From, "x")), new Dictionary<string, string>(), null, "ignored").MediaError);
    }
}
