using System.Globalization;
using System.Text.Json;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Media a bridge <c>message_media</c> event announces: a file the bridge downloaded into the data folder, named by
/// its SHA-256, which the media store takes over.
/// </summary>
public sealed record BridgeMedia(string Path, string Sha256, long Size, string? MimeType, string? FileName);

/// <summary>How a Baileys connection close is shown: the instance event and whether the host reconnects.</summary>
public sealed record BaileysCloseOutcome(int? StatusCode, string Reason, bool Transient, bool LoggedOut)
{
    /// <summary>A temporary ban: no reconnect before this much time passed.</summary>
    public TimeSpan? BannedFor { get; init; }

    /// <summary>Baileys' own words when <see cref="Reason"/> puts them plainly (e.g. the server cannot reach WhatsApp).</summary>
    public string? Detail { get; init; }
}

/// <summary>
/// Maps what Baileys reports (the raw <c>WAMessage</c> JSON, receipts, close reasons) to our engine model, in one
/// place so it is unit-tested against recorded messages. Pure: no I/O, no state beyond what is passed in.
/// </summary>
public static class BaileysMessageMapper
{
    internal const string UserServer = "@s.whatsapp.net";
    private const string LegacyUserServer = "@c.us";
    internal const string LidServer = "@lid";
    private const string GroupServer = "@g.us";

    // Wrappers whose `message` holds the real content (disappearing, view-once, captioned documents, edits of old clients).
    private static readonly string[] Wrappers =
    [
        "ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension", "documentWithCaptionMessage",
        "groupMentionedMessage", "botInvokeMessage", "editedMessage",
    ];

    // Keys of Message that carry no content of their own.
    internal static readonly HashSet<string> NonContent = ["messageContextInfo", "senderKeyDistributionMessage", "fastRatchetKeySenderKeyDistributionMessage"];

    /// <summary>
    /// The inbound message of a raw WAMessage, or null for what is not an inbound user message (our own sends,
    /// status updates, newsletters, protocol housekeeping).
    /// </summary>
    /// <param name="phoneForLid">Known phone numbers (digits) of LIDs, from the session's <c>lid_mapping</c> events.</param>
    /// <param name="pollVote">The bridge's <c>pollVote</c> of a poll vote: the decrypted choice.</param>
    public static InboundEngineMessage? MapMessage(JsonElement raw, BridgeMedia? media = null, Func<string, string?>? phoneForLid = null, JsonElement pollVote = default)
    {
        if (raw.ValueKind != JsonValueKind.Object || !raw.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.Object)
            return null;
        if (Bool(key, "fromMe"))
            return null;
        var remoteJid = Str(key, "remoteJid");
        var id = Str(key, "id");
        if (remoteJid is null || id is null)
            return null;
        if (remoteJid == "status@broadcast" || remoteJid.EndsWith("@broadcast", StringComparison.Ordinal) || remoteJid.EndsWith("@newsletter", StringComparison.Ordinal))
            return null;

        var isGroup = remoteJid.EndsWith(GroupServer, StringComparison.Ordinal);
        var senderJid = isGroup ? Str(key, "participant") ?? Str(raw, "participant") : remoteJid;
        if (string.IsNullOrEmpty(senderJid))
            return null;
        var alternates = new[] { Str(key, isGroup ? "participantAlt" : "remoteJidAlt"), Str(key, "senderPn"), Str(key, "senderLid"), Str(key, isGroup ? "participantPn" : null) };
        var (fromPhone, fromLid) = ResolveSender(senderJid, alternates, phoneForLid);
        if (fromPhone is null && fromLid is null)
            return null;

        if (!raw.TryGetProperty("message", out var content) || content.ValueKind != JsonValueKind.Object)
            return null;
        content = Unwrap(content);

        var mapped = MapContent(content, id);
        if (mapped is null)
            return null;
        if (mapped.PollVote is { } vote && pollVote.ValueKind == JsonValueKind.Object)
            mapped = mapped with { PollVote = vote with
            {
                Decrypted = Bool(pollVote, "decrypted"),
                SelectedOptions = Strings(pollVote, "selectedOptions"),
                SelectedHashes = Strings(pollVote, "selectedHashes"),
            } };

        EngineMedia? engineMedia = null;
        if (media is not null && mapped.IsMedia)
        {
            engineMedia = EngineMedia.FromFile(media.Path, media.Size, media.MimeType ?? mapped.MimeType ?? "application/octet-stream",
                media.FileName ?? mapped.FileName, handedOverHash: media.Sha256);
        }

        return new InboundEngineMessage(
            id, fromPhone, fromLid, NullIfEmpty(Str(raw, "pushName")), isGroup ? remoteJid : null, mapped.Type, mapped.Body,
            engineMedia, mapped.QuotedId, Timestamp(raw))
        {
            Location = mapped.Location,
            VCards = mapped.VCards,
            Reaction = mapped.Reaction,
            Poll = mapped.Poll,
            RevokedId = mapped.RevokedId,
            VideoNote = mapped.VideoNote,
            Edit = mapped.Edit,
            PollVote = mapped.PollVote,
            QuotedBody = BaileysConversationMapper.QuotedBody(content),
            Mentions = BaileysConversationMapper.Mentions(content),
        };
    }

    internal sealed record MappedContent(string Type, string? Body, string? QuotedId, bool IsMedia = false, string? MimeType = null, string? FileName = null)
    {
        public EngineLocation? Location { get; init; }
        public IReadOnlyList<string>? VCards { get; init; }
        public EngineReaction? Reaction { get; init; }
        public EnginePoll? Poll { get; init; }
        public string? RevokedId { get; init; }
        public bool VideoNote { get; init; }
        public EngineEdit? Edit { get; init; }
        public EnginePollVote? PollVote { get; init; }
    }

    internal static JsonElement Unwrap(JsonElement content)
    {
        for (var depth = 0; depth < 5; depth++)
        {
            var wrapped = false;
            foreach (var wrapper in Wrappers)
            {
                if (content.TryGetProperty(wrapper, out var w) && w.ValueKind == JsonValueKind.Object
                    && w.TryGetProperty("message", out var inner) && inner.ValueKind == JsonValueKind.Object)
                {
                    content = inner;
                    wrapped = true;
                    break;
                }
            }
            if (!wrapped)
                break;
        }
        return content;
    }

    internal static MappedContent? MapContent(JsonElement m, string id)
    {
        if (Str(m, "conversation") is { } conversation)
            return new MappedContent("chat", conversation, null);
        if (Obj(m, "extendedTextMessage") is { } extended)
            return new MappedContent("chat", Str(extended, "text") ?? "", QuotedId(extended));

        if (Obj(m, "imageMessage") is { } image)
            return Media("image", image);
        if (Obj(m, "videoMessage") is { } video)
            return Media("video", video);
        if (Obj(m, "ptvMessage") is { } videoNote)
            return Media("video", videoNote) with { VideoNote = true };
        if (Obj(m, "audioMessage") is { } audio)
            return Media(Bool(audio, "ptt") ? "ptt" : "audio", audio);
        if (Obj(m, "documentMessage") is { } document)
            return Media("document", document) with { FileName = NullIfEmpty(Str(document, "fileName")) ?? NullIfEmpty(Str(document, "title")) };
        if (Obj(m, "stickerMessage") is { } sticker)
            return Media("sticker", sticker);

        if ((Obj(m, "locationMessage") ?? Obj(m, "liveLocationMessage")) is { } location)
        {
            var name = NullIfEmpty(Str(location, "name"));
            var address = NullIfEmpty(Str(location, "address"));
            return new MappedContent("location", name ?? address ?? NullIfEmpty(Str(location, "comment")) ?? NullIfEmpty(Str(location, "caption")) ?? "", QuotedId(location))
            {
                Location = new EngineLocation(Num(location, "degreesLatitude"), Num(location, "degreesLongitude"), name, address, NullIfEmpty(Str(location, "url"))),
            };
        }

        if (Obj(m, "contactMessage") is { } contact)
        {
            var vcard = Str(contact, "vcard") ?? "";
            return new MappedContent("vcard", vcard, QuotedId(contact)) { VCards = [vcard] };
        }
        if (Obj(m, "contactsArrayMessage") is { } contacts)
        {
            var cards = contacts.TryGetProperty("contacts", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Select(c => Str(c, "vcard")).OfType<string>().ToList()
                : [];
            return new MappedContent("multi_vcard", string.Join("\n", cards), QuotedId(contacts)) { VCards = cards };
        }

        if (Obj(m, "reactionMessage") is { } reaction)
        {
            var emoji = Str(reaction, "text") ?? "";
            var target = reaction.TryGetProperty("key", out var targetKey) ? Str(targetKey, "id") : null;
            return new MappedContent("reaction", emoji, target) { Reaction = new EngineReaction(emoji, target ?? "") };
        }

        foreach (var pollKey in new[] { "pollCreationMessage", "pollCreationMessageV2", "pollCreationMessageV3", "pollCreationMessageV5" })
        {
            if (Obj(m, pollKey) is { } poll)
            {
                var question = Str(poll, "name") ?? "";
                var options = poll.TryGetProperty("options", out var opts) && opts.ValueKind == JsonValueKind.Array
                    ? opts.EnumerateArray().Select(o => Str(o, "optionName")).OfType<string>().ToList()
                    : [];
                var selectable = (int)Num(poll, "selectableOptionsCount");
                return new MappedContent("poll_creation", question, QuotedId(poll)) { Poll = new EnginePoll(question, options, selectable) };
            }
        }

        if (Obj(m, "pollUpdateMessage") is { } pollUpdate)
        {
            var pollId = Obj(pollUpdate, "pollCreationMessageKey") is { } pollKey ? Str(pollKey, "id") : null;
            return pollId is null ? null : new MappedContent("poll_vote", "", null) { PollVote = new EnginePollVote(pollId, false, [], []) };
        }

        if (Obj(m, "protocolMessage") is { } protocol)
        {
            var target = Obj(protocol, "key") is { } targetKey ? Str(targetKey, "id") : null;
            // REVOKE (0) is "deleted for everyone", MESSAGE_EDIT (14) carries the new content; other protocol messages
            // (history sync, ephemeral settings…) are housekeeping.
            if (IsEnum(protocol, "type", 0, "REVOKE"))
                return new MappedContent("revoked", "", null) { RevokedId = target };
            if (IsEnum(protocol, "type", 14, "MESSAGE_EDIT") && target is not null && Obj(protocol, "editedMessage") is { } edited
                && MapContent(Unwrap(edited), id) is { } replacement)
                return replacement with { Edit = new EngineEdit(target, replacement.Body ?? ""), IsMedia = false };
            return null;
        }

        // Something we have no mapping for (buttons, payments, events…): still reported, as whatsapp-web.js does.
        var kinds = m.EnumerateObject().Select(p => p.Name).Where(n => !NonContent.Contains(n)).ToList();
        if (kinds.Count == 0)
            return null;
        var quoted = kinds.Select(k => Obj(m, k)).Where(o => o.HasValue).Select(o => QuotedId(o!.Value)).FirstOrDefault(q => q is not null);
        return new MappedContent("unknown", "", quoted);

        static MappedContent Media(string type, JsonElement media) =>
            new(type, Str(media, "caption") ?? "", QuotedId(media), IsMedia: true, MimeType: NullIfEmpty(Str(media, "mimetype")));
    }

    private static IReadOnlyList<string> Strings(JsonElement element, string name) =>
        element.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : [];

    private static string? QuotedId(JsonElement content) =>
        content.TryGetProperty("contextInfo", out var context) && context.ValueKind == JsonValueKind.Object ? NullIfEmpty(Str(context, "stanzaId")) : null;

    /// <summary>
    /// The sender as (phone digits, LID): a phone JID gives the phone (and the LID when an alternate says it);
    /// a LID gives the LID, and the phone when an alternate or the session's LID map knows it.
    /// </summary>
    internal static (string? Phone, string? Lid) ResolveSender(string senderJid, IEnumerable<string?> alternates, Func<string, string?>? phoneForLid)
    {
        string? phone = null, lid = null;
        foreach (var jid in alternates.Prepend(senderJid))
        {
            if (string.IsNullOrEmpty(jid)) continue;
            if (IsLid(jid)) lid ??= BareLid(jid);
            else if (PhoneOf(jid) is { } digits) phone ??= digits;
        }
        if (phone is null && lid is not null && phoneForLid?.Invoke(lid) is { Length: > 0 } known)
            phone = known;
        return (phone, lid);
    }

    public static bool IsLid(string jid) => jid.EndsWith(LidServer, StringComparison.Ordinal);

    /// <summary><c>123:4@lid</c> → <c>123@lid</c> (no device part).</summary>
    public static string BareLid(string jid)
    {
        var user = jid[..^LidServer.Length];
        var colon = user.IndexOf(':');
        return (colon >= 0 ? user[..colon] : user) + LidServer;
    }

    /// <summary>The phone digits of a user JID (<c>491701234567:12@s.whatsapp.net</c> → <c>491701234567</c>), else null.</summary>
    public static string? PhoneOf(string? jid)
    {
        if (string.IsNullOrEmpty(jid)) return null;
        string user;
        if (jid.EndsWith(UserServer, StringComparison.Ordinal)) user = jid[..^UserServer.Length];
        else if (jid.EndsWith(LegacyUserServer, StringComparison.Ordinal)) user = jid[..^LegacyUserServer.Length];
        else return null;
        var end = user.IndexOfAny([':', '_']);
        if (end >= 0) user = user[..end];
        return user.Length > 0 && user.All(char.IsAsciiDigit) ? user : null;
    }

    /// <summary><c>messageTimestamp</c> as Baileys serialises a protobuf Long: a number, a string, or <c>{low, high}</c>.</summary>
    public static DateTimeOffset Timestamp(JsonElement raw)
    {
        if (!raw.TryGetProperty("messageTimestamp", out var ts))
            return DateTimeOffset.UnixEpoch;
        long seconds = ts.ValueKind switch
        {
            JsonValueKind.Number when ts.TryGetInt64(out var n) => n,
            JsonValueKind.Number => (long)ts.GetDouble(),
            JsonValueKind.String when long.TryParse(ts.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
            JsonValueKind.Object => ((long)(uint)Num(ts, "high") << 32) | (uint)Num(ts, "low"),
            _ => 0,
        };
        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    /// <summary>A <c>receipt</c> event as a status of one of our sends, or null when it is not about ours or says nothing new.</summary>
    public static MessageStatusEvent? MapReceipt(string instanceId, DateTimeOffset at, JsonElement data)
    {
        var id = Str(data, "id");
        if (id is null || data.TryGetProperty("fromMe", out var fromMe) && fromMe.ValueKind == JsonValueKind.False)
            return null;
        if (!data.TryGetProperty("status", out var status))
            return null;
        MessageAck? ack = ReceiptStatus(status) switch
        {
            BaileysReceiptStatus.Error => MessageAck.Error,
            BaileysReceiptStatus.ServerAck => MessageAck.Server,
            BaileysReceiptStatus.DeliveryAck => MessageAck.Device,
            BaileysReceiptStatus.Read => MessageAck.Read,
            BaileysReceiptStatus.Played => MessageAck.Played,
            _ => null,
        };
        return ack is { } a ? new MessageStatusEvent(instanceId, at, id, a, a == MessageAck.Error ? "WhatsApp reported the message as failed" : null) : null;
    }

    private static BaileysReceiptStatus? ReceiptStatus(JsonElement status) => status.ValueKind switch
    {
        JsonValueKind.Number when status.TryGetInt32(out var n) => (BaileysReceiptStatus)n,
        JsonValueKind.String => status.GetString()?.ToUpperInvariant() switch
        {
            "ERROR" => BaileysReceiptStatus.Error,
            "PENDING" => BaileysReceiptStatus.Pending,
            "SERVER_ACK" => BaileysReceiptStatus.ServerAck,
            "DELIVERY_ACK" => BaileysReceiptStatus.DeliveryAck,
            "READ" => BaileysReceiptStatus.Read,
            "PLAYED" => BaileysReceiptStatus.Played,
            var s when int.TryParse(s, out var n) => (BaileysReceiptStatus)n,
            _ => null,
        },
        _ => null,
    };

    /// <summary>
    /// A <c>connection</c> <c>close</c>: logged out (401) needs a new scan; conflict (440), forbidden (403) and an outdated
    /// WhatsApp Web version (405) need a person; everything else (network, 408/428/500/503/515) is retried by the host.
    /// </summary>
    public static BaileysCloseOutcome MapClose(JsonElement reason)
    {
        int? code = reason.ValueKind == JsonValueKind.Object && reason.TryGetProperty("statusCode", out var sc) && sc.ValueKind == JsonValueKind.Number
            && sc.TryGetInt32(out var c) ? c : null;
        var name = Str(reason, "name");
        var error = Str(reason, "error") ?? Str(reason, "message");
        if (code == 405 || name is "versionOutdated" or "clientOutdated"
            || error?.Contains("version", StringComparison.OrdinalIgnoreCase) == true && code is null or 400 or 405)
        {
            var detail = string.Join(", ", new[] { code?.ToString(CultureInfo.InvariantCulture), name, error }.Where(s => !string.IsNullOrEmpty(s)).Distinct());
            return new BaileysCloseOutcome(code,
                $"WhatsApp refused the connection, most likely because the WhatsApp Web version is outdated ({detail}); set {BaileysOptions.Section}:WaVersion to a current version (or update the bridge) and restart the instance",
                false, false);
        }
        // The failure node's attributes: a temporary ban (402) says how long it lasts in `expire` (seconds).
        var data = Obj(reason, "data");
        long? expire = data is { } attrs && Num(attrs, "expire") is > 0 and var seconds ? (long)seconds : null;
        // A WebSocket error keeps Node's error in `data`: its code says whether the network failed (ENOTFOUND, ECONNREFUSED, TLS).
        var systemCode = data is { } nodeError ? Str(nodeError, "code") : null;
        var decision = CloseCodePolicy.Decide(code, name, error, expire, systemCode);
        return new BaileysCloseOutcome(code, decision.Reason, decision.Reconnect, decision.LoggedOut) { BannedFor = decision.BannedFor, Detail = decision.Detail };
    }

    internal static JsonElement? Obj(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    internal static string? Str(JsonElement element, string? name) => name is null ? null : BridgeProcess.Str(element, name);

    internal static bool Bool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
        && (value.ValueKind == JsonValueKind.True || value.ValueKind == JsonValueKind.String && value.GetString() == "true");

    internal static double Num(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
            return 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => 0,
        };
    }

    private static bool IsEnum(JsonElement element, string name, int number, string text)
    {
        // protobufjs omits fields at their default, so a missing enum is its zero value.
        if (!element.TryGetProperty(name, out var value))
            return number == 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n == number
            || value.ValueKind == JsonValueKind.String && (value.GetString() == text || value.GetString() == number.ToString(CultureInfo.InvariantCulture));
    }

    internal static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
