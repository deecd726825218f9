using System.Text.Json;
using System.Text.Json.Nodes;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Core.Webhooks;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>Recorded Baileys messages (Fixtures/*.json, the bridge's <c>message</c> event data) mapped all the way to the webhook payload.</summary>
[Trait("Category", "Unit")]
public sealed class BaileysMessageMapperTests
{
    private const string InstancePhone = "255757000001";

    private static JsonElement FixtureData(string name) =>
        JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", name + ".json")));

    /// <summary>A fixture recorded from the real bridge against the fake WhatsApp server (baileys-bridge/test/bridge-message-types.test.js).</summary>
    private static InboundEngineMessage MapRecorded(string name)
    {
        var data = FixtureData(name);
        var (_, media) = Fixture(name);
        return BaileysMessageMapper.MapMessage(data.GetProperty("raw"), media, null, data.TryGetProperty("pollVote", out var vote) ? vote : default)
            ?? throw new Xunit.Sdk.XunitException($"{name} mapped to nothing");
    }

    private static (JsonElement Raw, BridgeMedia? Media) Fixture(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", name + ".json");
        var data = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(path));
        BridgeMedia? media = data.TryGetProperty("media", out var m)
            ? MediaFile(Convert.FromBase64String(m.GetProperty("base64").GetString()!), m.TryGetProperty("mimetype", out var mt) ? mt.GetString() : null,
                m.TryGetProperty("fileName", out var fn) ? fn.GetString() : null)
            : null;
        return (data.GetProperty("raw"), media);
    }

    /// <summary>The fixture's media as the bridge hands it over: a file named by its SHA-256.</summary>
    private static BridgeMedia MediaFile(byte[] bytes, string? mimeType, string? fileName)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var folder = Directory.CreateTempSubdirectory("mapper-media-").FullName;
        var path = Path.Combine(folder, hash);
        File.WriteAllBytes(path, bytes);
        return new BridgeMedia(path, hash, bytes.Length, mimeType, fileName);
    }

    private static InboundEngineMessage Map(string name, Func<string, string?>? phoneForLid = null)
    {
        var (raw, media) = Fixture(name);
        return BaileysMessageMapper.MapMessage(raw, media, phoneForLid) ?? throw new Xunit.Sdk.XunitException($"{name} mapped to nothing");
    }

    /// <summary>The <c>message</c> object of the webhook payload, built as the inbound recorder builds it.</summary>
    private static JsonNode Payload(InboundEngineMessage message)
    {
        var media = message.Media is { } file ? new PayloadMedia(file.MimeType, file.FileName, file.Data.Length, file.Data, "https://gw.invalid/media/x") : null;
        var serialized = WhatsAppIds.InboundSerializedId(message.FromPhone, message.FromLid, message.GroupId, message.Id);
        var json = WebhookPayloads.InboundMessage("INST-01-0000142", "CUST-0143", InstancePhone, serialized, message, media);
        var root = JsonNode.Parse(json)!;
        Assert.Equal("message", root["event"]!.GetValue<string>());
        Assert.Equal(InstancePhone, root["phone_number"]!.GetValue<string>());
        return root["message"]!;
    }

    private static string S(JsonNode node, string name) => node[name]!.GetValue<string>();

    [Fact]
    public void Text()
    {
        var m = Payload(Map("text"));
        Assert.Equal("false_255712345678@c.us_3EB0A1B2C3D4E5F60718", S(m, "id"));
        Assert.Equal("255712345678@c.us", S(m, "from"));
        Assert.Equal(InstancePhone + "@c.us", S(m, "to"));
        Assert.Equal("Habari, bei ya mchele?", S(m, "body"));
        Assert.Equal("chat", S(m, "type"));
        Assert.False(m["fromMe"]!.GetValue<bool>());
        Assert.False(m["hasMedia"]!.GetValue<bool>());
        Assert.Equal(1767791640, m["timestamp"]!.GetValue<long>());
        Assert.Equal("Asha", S(m, "pushName"));
        Assert.Equal("255712345678", S(m, "fromPhone"));
        Assert.Equal("120542636048510@lid", S(m, "fromLid"));
        Assert.False(m["isGroup"]!.GetValue<bool>());
        Assert.Null(m["location"]);
    }

    [Fact]
    public void Extended_text_with_a_quote()
    {
        var m = Payload(Map("extended-text-quote"));
        Assert.Equal("chat", S(m, "type"));
        Assert.Equal("Ndiyo, hiyo ya jana", S(m, "body"));
        Assert.Equal("3EB0QUOTED0000000001", S(m, "quotedId"));
        // The reply's copy of the quoted message, for when we have none stored.
        Assert.Equal("Tuna mchele mpya", S(m, "quotedBody"));
        Assert.True(m["hasQuotedMsg"]!.GetValue<bool>());
        Assert.Equal(1767791641, m["timestamp"]!.GetValue<long>());
    }

    [Fact]
    public void A_message_without_a_quote_has_no_quoted_body()
    {
        var m = Payload(Map("text"));
        Assert.False(m["hasQuotedMsg"]!.GetValue<bool>());
        Assert.False(m.AsObject().ContainsKey("quotedBody"));
    }

    [Fact]
    public void Image_with_caption()
    {
        var m = Payload(Map("image-caption"));
        Assert.Equal("image", S(m, "type"));
        Assert.True(m["hasMedia"]!.GetValue<bool>());
        Assert.Equal("Sawa", S(m, "body"));
        Assert.Equal("Sawa", S(m, "caption"));
        Assert.Equal("image/jpeg", S(m["media"]!, "mimetype"));
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, .. "fake-jpeg-bytes"u8.ToArray()];
        Assert.Equal(jpeg, Convert.FromBase64String(S(m["media"]!, "data")));
        Assert.Equal(1767791642, m["timestamp"]!.GetValue<long>());
    }

    [Fact]
    public void Document_with_caption_unwrapped()
    {
        var m = Payload(Map("document"));
        Assert.Equal("document", S(m, "type"));
        Assert.Equal("Ankara ya wiki hii", S(m, "body"));
        Assert.Equal("application/pdf", S(m["media"]!, "mimetype"));
        Assert.Equal("invoice-0042.pdf", S(m["media"]!, "filename"));
        Assert.Equal(21, m["media"]!["filesize"]!.GetValue<long>());
    }

    [Fact]
    public void Voice_note_is_ptt()
    {
        var m = Payload(Map("voice-note"));
        Assert.Equal("ptt", S(m, "type"));
        Assert.True(m["hasMedia"]!.GetValue<bool>());
        Assert.Equal("audio/ogg; codecs=opus", S(m["media"]!, "mimetype"));
        Assert.Equal("", S(m, "body"));
    }

    [Fact]
    public void Sticker()
    {
        var m = Payload(Map("sticker"));
        Assert.Equal("sticker", S(m, "type"));
        Assert.Equal("image/webp", S(m["media"]!, "mimetype"));
    }

    [Fact]
    public void Location()
    {
        var m = Payload(Map("location"));
        Assert.Equal("location", S(m, "type"));
        Assert.False(m["hasMedia"]!.GetValue<bool>());
        Assert.Equal("Kariakoo Market", S(m, "body"));
        Assert.Equal(-6.792354, m["location"]!["latitude"]!.GetValue<double>());
        Assert.Equal(39.208328, m["location"]!["longitude"]!.GetValue<double>());
        Assert.Equal("Kariakoo, Dar es Salaam", S(m["location"]!, "address"));
    }

    [Fact]
    public void Contact_is_a_vcard()
    {
        var m = Payload(Map("contact"));
        Assert.Equal("vcard", S(m, "type"));
        Assert.StartsWith("BEGIN:VCARD", S(m, "body"));
        Assert.Contains("Juma Hassan", m["vCards"]![0]!.GetValue<string>());
    }

    [Fact]
    public void Several_contacts_are_a_multi_vcard()
    {
        var m = Payload(Map("contacts-array"));
        Assert.Equal("multi_vcard", S(m, "type"));
        Assert.Equal(2, m["vCards"]!.AsArray().Count);
        Assert.Contains("Neema", m["vCards"]![1]!.GetValue<string>());
    }

    [Fact]
    public void Reaction_names_the_message_it_reacts_to()
    {
        var m = Payload(Map("reaction"));
        Assert.Equal("reaction", S(m, "type"));
        Assert.Equal("👍", S(m, "body"));
        Assert.Equal("👍", S(m["reaction"]!, "emoji"));
        Assert.Equal("3EB0OURS000000000001", S(m["reaction"]!, "msgId"));
    }

    [Fact]
    public void Group_message_is_from_the_group_with_the_participant_as_author()
    {
        var m = Payload(Map("group"));
        Assert.True(m["isGroup"]!.GetValue<bool>());
        Assert.Equal("120363041234567890@g.us", S(m, "from"));
        Assert.Equal("255713000111@c.us", S(m, "author"));
        Assert.Equal("false_120363041234567890@g.us_3EB0GRP0000000000001_255713000111@c.us", S(m, "id"));
        Assert.Equal("98765432109876@lid", S(m, "fromLid"));
        Assert.Equal("Juma", S(m, "pushName"));
        Assert.Equal("Mzigo umefika?", S(m, "body"));
    }

    [Fact]
    public void Lid_sender_with_a_known_phone_is_from_the_phone()
    {
        var m = Payload(Map("lid-with-phone"));
        Assert.Equal("255757197676@c.us", S(m, "from"));
        Assert.Equal("120542636048510@lid", S(m, "fromLid"));
        Assert.Equal("255757197676", S(m, "fromPhone"));
        Assert.Equal("false_255757197676@c.us_A586DC71E697153420998E09871EA237", S(m, "id"));
    }

    [Fact]
    public void Lid_sender_without_a_phone_is_from_the_lid()
    {
        var m = Payload(Map("lid-without-phone"));
        Assert.Equal("120542636048510@lid", S(m, "from"));
        Assert.Null(m["fromPhone"]);
        Assert.Equal("false_120542636048510@lid_A586DC71E697153420998E09871EA238", S(m, "id"));
        Assert.Equal("Nipigie", S(m, "body"));
    }

    [Fact]
    public void Lid_sender_whose_phone_the_session_learned_from_a_lid_mapping_is_from_the_phone()
    {
        var m = Payload(Map("lid-without-phone", lid => lid == "120542636048510@lid" ? "255757197676" : null));
        Assert.Equal("255757197676@c.us", S(m, "from"));
        Assert.Equal("120542636048510@lid", S(m, "fromLid"));
    }

    [Fact]
    public void Disappearing_view_once_image_is_unwrapped()
    {
        var m = Payload(Map("ephemeral-view-once-image"));
        Assert.Equal("image", S(m, "type"));
        Assert.Equal("Mara moja tu", S(m, "caption"));
    }

    [Fact]
    public void Poll_creation()
    {
        var m = Payload(Map("poll"));
        Assert.Equal("poll_creation", S(m, "type"));
        Assert.Equal("Tufungue saa ngapi?", S(m, "body"));
        Assert.Equal(["8:00", "9:00"], m["poll"]!["options"]!.AsArray().Select(o => o!.GetValue<string>()));
    }

    [Fact]
    public void Revoke_is_revoked_with_the_deleted_id()
    {
        var m = Payload(Map("revoke"));
        Assert.Equal("revoked", S(m, "type"));
        Assert.Equal("3EB0A1B2C3D4E5F60718", S(m, "revokedId"));
    }

    [Theory]
    [InlineData("from-me")]
    [InlineData("status-broadcast")]
    public void Own_sends_and_status_updates_are_not_inbound(string name)
    {
        var (raw, media) = Fixture(name);
        Assert.Null(BaileysMessageMapper.MapMessage(raw, media));
    }

    [Theory]
    [InlineData(0, MessageAck.Error)]
    [InlineData(2, MessageAck.Server)]
    [InlineData(3, MessageAck.Device)]
    [InlineData(4, MessageAck.Read)]
    [InlineData(5, MessageAck.Played)]
    public void Receipts_map_to_acks(int status, MessageAck ack)
    {
        var data = JsonSerializer.Deserialize<JsonElement>($$"""{"id":"3EB0X","remoteJid":"255712345678@s.whatsapp.net","fromMe":true,"status":{{status}}}""");
        var e = BaileysMessageMapper.MapReceipt("INST-01-0000001", DateTimeOffset.UnixEpoch, data);
        Assert.Equal(ack, e!.Ack);
        Assert.Equal("3EB0X", e.MessageId);
        Assert.Null(BaileysMessageMapper.MapReceipt("INST-01-0000001", DateTimeOffset.UnixEpoch,
            JsonSerializer.Deserialize<JsonElement>("""{"id":"3EB0X","fromMe":true,"status":1}""")));
        Assert.Equal(MessageAck.Read, BaileysMessageMapper.MapReceipt("INST-01-0000001", DateTimeOffset.UnixEpoch,
            JsonSerializer.Deserialize<JsonElement>("""{"id":"3EB0X","fromMe":true,"status":"READ"}"""))!.Ack);
    }

    [Theory]
    [InlineData("""{"statusCode":401,"name":"loggedOut","error":"Connection Failure"}""", false, true, "logged out from the phone")]
    [InlineData("""{"statusCode":440,"name":"connectionReplaced","error":"Stream Errored (conflict)"}""", false, false, "conflict")]
    [InlineData("""{"statusCode":405,"error":"Connection Failure"}""", false, false, "WapBridge:Engines:Baileys:WaVersion")]
    [InlineData("""{"statusCode":403,"name":"forbidden"}""", false, true, "forbidden")]
    [InlineData("""{"statusCode":406,"name":"unknown","error":"Connection Failure"}""", false, true, "pair again")]
    [InlineData("""{"statusCode":411,"name":"multideviceMismatch"}""", false, false, "multi-device mismatch")]
    [InlineData("""{"statusCode":402,"name":"unknown","error":"Connection Failure","data":{"reason":"402","expire":"600"}}""", false, false, "banned")]
    [InlineData("""{"statusCode":408,"name":"timedOut"}""", true, false, "reconnecting")]
    [InlineData("""{"statusCode":428,"name":"connectionClosed"}""", true, false, "reconnecting")]
    [InlineData("""{"statusCode":500,"name":"badSession"}""", true, false, "reconnecting")]
    [InlineData("""{"statusCode":503,"name":"unavailableService"}""", true, false, "reconnecting")]
    [InlineData("""{"statusCode":515,"name":"restartRequired"}""", true, false, "reconnecting")]
    [InlineData("""{"error":"getaddrinfo ENOTFOUND web.whatsapp.com"}""", true, false, "cannot reach WhatsApp")]
    [InlineData("""{"statusCode":408,"name":"timedOut","error":"WebSocket Error (connect ECONNREFUSED 127.0.0.1:9)","data":{"code":"ECONNREFUSED","syscall":"connect"}}""", true, false, "cannot reach WhatsApp")]
    [InlineData("""{"statusCode":403,"name":"forbidden","error":"WebSocket Error (Unexpected server response: 403)","data":{}}""", true, false, "cannot reach WhatsApp")]
    [InlineData("""{"statusCode":500,"name":"badSession","error":"WebSocket Error (certificate has expired)","data":{"code":"CERT_HAS_EXPIRED"}}""", true, false, "cannot reach WhatsApp")]
    public void Close_reasons(string reason, bool transient, bool loggedOut, string says)
    {
        var outcome = BaileysMessageMapper.MapClose(JsonSerializer.Deserialize<JsonElement>(reason));
        Assert.Equal(transient, outcome.Transient);
        Assert.Equal(loggedOut, outcome.LoggedOut);
        Assert.Contains(says, outcome.Reason);
        // Plain words replace Baileys' own, which stay in the detail (logs and the state history).
        if (says == "cannot reach WhatsApp")
            Assert.Contains(JsonSerializer.Deserialize<JsonElement>(reason).GetProperty("error").GetString()!, outcome.Detail);
        Assert.Equal(outcome.StatusCode == 402 ? TimeSpan.FromMinutes(10) : null, outcome.BannedFor);
    }

    [Theory]
    [InlineData("491701234567:12@s.whatsapp.net", "491701234567")]
    [InlineData("491701234567@s.whatsapp.net", "491701234567")]
    [InlineData("491701234567@c.us", "491701234567")]
    [InlineData("123456@lid", null)]
    [InlineData("120363041234567890@g.us", null)]
    public void Phones_of_jids(string jid, string? phone) => Assert.Equal(phone, BaileysMessageMapper.PhoneOf(jid));

    [Fact]
    public void A_round_video_note_is_a_video_with_its_media_and_the_video_note_flag()
    {
        var message = MapRecorded("fake-wa-ptv");
        Assert.Equal("video", message.Type);
        Assert.True(message.VideoNote);
        Assert.Equal("video/mp4", message.Media!.MimeType);
        Assert.Equal(4096, message.Media.Length);
        Assert.Equal("255755000001", message.FromPhone);
        var m = Payload(message);
        Assert.Equal("video", S(m, "type"));
        Assert.True(m["hasMedia"]!.GetValue<bool>());
    }

    [Fact]
    public void A_recorded_reaction_is_type_reaction_with_the_emoji_and_the_reacted_id()
    {
        var message = MapRecorded("fake-wa-reaction");
        Assert.Equal("reaction", message.Type);
        Assert.Equal("👍", message.Body);
        var target = FixtureData("fake-wa-reaction").GetProperty("raw").GetProperty("message").GetProperty("reactionMessage").GetProperty("key").GetProperty("id").GetString();
        Assert.Equal(new EngineReaction("👍", target!), message.Reaction);
        var update = Assert.IsType<MessageReactionEvent>(MessageUpdateEvent.For("INST-1", DateTimeOffset.UnixEpoch, message));
        Assert.Equal((target, "👍", "255755000001"), (update.MessageId, update.Emoji, update.FromPhone));
    }

    [Fact]
    public void A_reaction_with_no_emoji_removes_it()
    {
        var data = JsonNode.Parse(FixtureData("fake-wa-reaction").GetRawText())!;
        data["raw"]!["message"]!["reactionMessage"]!["text"] = "";
        var message = BaileysMessageMapper.MapMessage(JsonSerializer.Deserialize<JsonElement>(data["raw"]!.ToJsonString()))!;
        Assert.Equal("reaction", message.Type);
        Assert.Equal("", message.Reaction!.Emoji);
        Assert.Equal("", Assert.IsType<MessageReactionEvent>(MessageUpdateEvent.For("INST-1", DateTimeOffset.UnixEpoch, message)).Emoji);
    }

    [Fact]
    public void A_recorded_edit_carries_the_new_text_for_the_original_message_and_is_no_unknown_message()
    {
        var message = MapRecorded("fake-wa-edit");
        Assert.NotEqual("unknown", message.Type);
        var target = FixtureData("fake-wa-edit").GetProperty("raw").GetProperty("message").GetProperty("protocolMessage").GetProperty("key").GetProperty("id").GetString();
        Assert.Equal(new EngineEdit(target!, "Bei ni 4500"), message.Edit);
        var update = Assert.IsType<MessageEditedEvent>(MessageUpdateEvent.For("INST-1", DateTimeOffset.UnixEpoch, message));
        Assert.Equal((target, "Bei ni 4500"), (update.MessageId, update.Body));
    }

    [Fact]
    public void An_edit_wrapped_in_editedMessage_is_an_edit_too()
    {
        // Newer phones wrap the protocol message: {editedMessage: {message: {protocolMessage: …}}}.
        var raw = JsonNode.Parse(FixtureData("fake-wa-edit").GetProperty("raw").GetRawText())!;
        var protocol = raw["message"]!["protocolMessage"]!.DeepClone();
        protocol["editedMessage"] = new JsonObject { ["imageMessage"] = new JsonObject { ["caption"] = "Picha mpya" } };
        raw["message"] = new JsonObject { ["editedMessage"] = new JsonObject { ["message"] = new JsonObject { ["protocolMessage"] = protocol } } };
        var message = BaileysMessageMapper.MapMessage(JsonSerializer.Deserialize<JsonElement>(raw.ToJsonString()))!;
        Assert.Equal("Picha mpya", message.Edit!.Body);
        Assert.Null(message.Media);
    }

    [Fact]
    public void A_recorded_revoke_is_type_revoked_with_the_deleted_id()
    {
        var message = MapRecorded("fake-wa-revoke");
        Assert.Equal("revoked", message.Type);
        var target = FixtureData("fake-wa-revoke").GetProperty("raw").GetProperty("message").GetProperty("protocolMessage").GetProperty("key").GetProperty("id").GetString();
        Assert.Equal(target, message.RevokedId);
        Assert.Equal(target, Assert.IsType<MessageRevokedEvent>(MessageUpdateEvent.For("INST-1", DateTimeOffset.UnixEpoch, message)).MessageId);
    }

    [Fact]
    public void A_decrypted_poll_vote_names_the_chosen_options()
    {
        var message = MapRecorded("fake-wa-poll-vote");
        var vote = message.PollVote!;
        Assert.True(vote.Decrypted);
        Assert.Equal(["Jumanne", "Ijumaa"], vote.SelectedOptions);
        Assert.Equal(2, vote.SelectedHashes.Count);
        Assert.Equal(FixtureData("fake-wa-poll-vote").GetProperty("pollVote").GetProperty("pollId").GetString(), vote.PollId);
        var update = Assert.IsType<PollVoteEvent>(MessageUpdateEvent.For("INST-1", DateTimeOffset.UnixEpoch, message));
        Assert.Equal((vote.PollId, "255755000001"), (update.MessageId, update.FromPhone));
    }

    [Fact]
    public void A_vote_on_an_unknown_poll_is_still_a_vote_not_an_unknown_message()
    {
        var message = MapRecorded("fake-wa-poll-vote-unknown");
        Assert.NotEqual("unknown", message.Type);
        Assert.Equal("3EB0UNKNOWNPOLL", message.PollVote!.PollId);
        Assert.False(message.PollVote.Decrypted);
        Assert.Empty(message.PollVote.SelectedOptions);
    }

    [Theory]
    [InlineData("audio/ogg; codecs=opus", "voice")]
    [InlineData("audio/mpeg", "audio")]
    [InlineData("image/webp", "image")]
    [InlineData("image/gif", "gif")]
    [InlineData("image/png", "image")]
    [InlineData("video/mp4", "video")]
    [InlineData("application/pdf", "document")]
    public void Media_kinds_for_sends(string mime, string kind) => Assert.Equal(kind, BaileysSendPath.MediaKind(mime));
}
