using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>What one of Meta's callbacks says about one phone number: the messages it received and the statuses of ours.</summary>
public sealed record CloudApiWebhook(IReadOnlyList<CloudApiInbound> Messages, IReadOnlyList<CloudApiStatus> Statuses);

/// <summary>
/// An inbound message as Meta described it, before its media is downloaded and the <c>wamid</c>s it names
/// (<see cref="InboundEngineMessage.QuotedId"/>, a reaction's target) are turned into our message ids.
/// </summary>
public sealed record CloudApiInbound(InboundEngineMessage Message, CloudApiMediaRef? Media)
{
    /// <summary>The <c>wamid</c>s of other messages it points at (the quoted one, the reacted-to one).</summary>
    public IEnumerable<string> ReferencedWamids() =>
        new[] { Message.QuotedId, Message.Reaction?.TargetId }.OfType<string>().Where(id => id.Length > 0);
}

/// <summary>Media Meta keeps for us: downloaded from Graph by <see cref="MediaId"/> with the instance's token.</summary>
public sealed record CloudApiMediaRef(string MediaId, string MimeType, string? FileName, string Kind);

/// <summary>
/// A status of one of our messages (<see cref="Wamid"/>: Graph's id for it). <see cref="ErrorCode"/> and <see cref="Error"/>
/// are set for <see cref="MessageAck.Error"/>.
/// </summary>
public sealed record CloudApiStatus(string Wamid, MessageAck Ack, DateTimeOffset At, string? ErrorCode, string? Error);

/// <summary>
/// Meta's <c>messages</c> webhook (<c>entry[].changes[].value</c>) in our inbound model, the shapes the other engines
/// hand the host: text, media, location, contacts (as vCards), interactive and template button replies (as <c>chat</c>
/// with the tapped title), reactions; statuses as receipts with Meta's error code as our reason.
/// </summary>
public static class CloudApiWebhookMapper
{
    /// <summary>Our id columns hold 64 characters; Meta's ids are usually shorter, but not always.</summary>
    public const int MaxIdLength = 64;

    // Message.Error's column, less room for the "(Meta error N)" suffix.
    private const int MaxErrorText = 440;

    /// <summary>
    /// The callback's messages and statuses for <paramref name="phoneNumberId"/>; changes for another number of the same
    /// Meta app, and fields other than messages, are left out. Throws <see cref="JsonException"/> for a body that is not JSON.
    /// </summary>
    /// <param name="receivedAt">When the callback came: the time of a message or status without its own.</param>
    public static CloudApiWebhook Parse(string body, string phoneNumberId, DateTimeOffset receivedAt)
    {
        using var document = JsonDocument.Parse(body);
        var messages = new List<CloudApiInbound>();
        var statuses = new List<CloudApiStatus>();
        foreach (var entry in ArrayOf(document.RootElement, "entry"))
            foreach (var change in ArrayOf(entry, "changes"))
            {
                if (ObjectOf(change, "value") is not { } value || StringOf(ObjectOf(value, "metadata"), "phone_number_id") != phoneNumberId)
                    continue;
                var names = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var contact in ArrayOf(value, "contacts"))
                    if (StringOf(contact, "wa_id") is { } waId && StringOf(ObjectOf(contact, "profile"), "name") is { Length: > 0 } name)
                        names[waId] = name;
                foreach (var message in ArrayOf(value, "messages"))
                    if (MapMessage(message, names, receivedAt) is { } inbound)
                        messages.Add(inbound);
                foreach (var status in ArrayOf(value, "statuses"))
                    if (MapStatus(status, receivedAt) is { } mapped)
                        statuses.Add(mapped);
            }
        return new CloudApiWebhook(messages, statuses);
    }

    /// <summary>
    /// Our id of an inbound message: its <c>wamid</c>, or when that does not fit our columns a stable digest of it (the
    /// same message delivered twice gets the same id, so it is stored once).
    /// </summary>
    public static string InboundId(string wamid) =>
        wamid.Length <= MaxIdLength ? wamid : "wamid.~" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(wamid))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// The message ready for the host: our ids in place of <c>wamid</c>s (<paramref name="ourIds"/>: the instance's own
    /// messages by their wamid; others are inbound messages, known by <see cref="InboundId"/>) and its media or why there is none.
    /// </summary>
    public static InboundEngineMessage Complete(CloudApiInbound inbound, IReadOnlyDictionary<string, string> ourIds, EngineMedia? media, string? mediaError)
    {
        string OurId(string wamid) => ourIds.TryGetValue(wamid, out var ours) ? ours : InboundId(wamid);
        var message = inbound.Message;
        var id = InboundId(message.Id);
        return message with
        {
            Id = id,
            EngineMessageId = id == message.Id ? null : message.Id,
            QuotedId = message.QuotedId is { Length: > 0 } quoted ? OurId(quoted) : null,
            Reaction = message.Reaction is { } reaction ? reaction with { TargetId = OurId(reaction.TargetId) } : null,
            Media = media,
            MediaError = inbound.Media is null ? null : media is null ? mediaError ?? "the media could not be downloaded" : null,
        };
    }

    private static CloudApiInbound? MapMessage(JsonElement m, Dictionary<string, string> names, DateTimeOffset receivedAt)
    {
        if (StringOf(m, "id") is not { Length: > 0 } id || StringOf(m, "from") is not { Length: > 0 } from || !from.All(char.IsAsciiDigit))
            return null;
        var message = new InboundEngineMessage(id, from, null, names.GetValueOrDefault(from), null, "chat", null, null,
            StringOf(ObjectOf(m, "context"), "id"), TimeOf(m, receivedAt));
        var type = StringOf(m, "type") ?? "unknown";
        var content = ObjectOf(m, type);
        switch (type)
        {
            case "text":
                return new(message with { Body = StringOf(content, "body") ?? "" }, null);
            case "image" or "video" or "audio" or "document" or "sticker":
                if (StringOf(content, "id") is not { Length: > 0 } mediaId)
                    break;
                var mime = StringOf(content, "mime_type") ?? "application/octet-stream";
                var voice = type == "audio" && content?.TryGetProperty("voice", out var v) == true && v.ValueKind == JsonValueKind.True;
                return new(message with { Type = voice ? "ptt" : type, Body = StringOf(content, "caption") },
                    new CloudApiMediaRef(mediaId, mime, StringOf(content, "filename"), type));
            case "location" when content is { } place:
                var name = StringOf(place, "name");
                return new(message with
                {
                    Type = "location",
                    Body = name ?? "",
                    Location = new EngineLocation(NumberOf(place, "latitude"), NumberOf(place, "longitude"), name, StringOf(place, "address"), StringOf(place, "url")),
                }, null);
            case "contacts":
                var cards = ArrayOf(m, "contacts").Select(VCard).ToList();
                if (cards.Count == 0)
                    break;
                return new(message with { Type = cards.Count == 1 ? "vcard" : "multi_vcard", Body = cards[0], VCards = cards }, null);
            case "interactive" when content is { } interactive:
                var kind = StringOf(interactive, "type");
                var reply = kind is null ? null : ObjectOf(interactive, kind);
                return kind switch
                {
                    "button_reply" => new(message with { Body = StringOf(reply, "title") ?? "", SelectedButtonId = StringOf(reply, "id") }, null),
                    "list_reply" => new(message with { Body = StringOf(reply, "title") ?? "", SelectedRowId = StringOf(reply, "id") }, null),
                    // A WhatsApp Flow's answer: its summary as text (the answers are in Meta's response_json).
                    "nfm_reply" => new(message with { Body = StringOf(reply, "body") ?? "" }, null),
                    _ => new(message with { Type = "unknown" }, null),
                };
            case "button" when content is { } button:
                return new(message with { Body = StringOf(button, "text") ?? "", SelectedButtonId = StringOf(button, "payload") }, null);
            case "reaction" when content is { } reaction && StringOf(reaction, "message_id") is { Length: > 0 } target:
                // Meta leaves the emoji out (or empty) when the contact takes the reaction back.
                var emoji = StringOf(reaction, "emoji") ?? "";
                return new(message with { Type = "reaction", Body = emoji, Reaction = new EngineReaction(emoji, target) }, null);
        }
        // Types we do not map (orders, system notices, unsupported ones): announced as unknown rather than lost.
        return new(message with { Type = "unknown" }, null);
    }

    private static CloudApiStatus? MapStatus(JsonElement s, DateTimeOffset receivedAt)
    {
        if (StringOf(s, "id") is not { Length: > 0 } wamid)
            return null;
        var ack = StringOf(s, "status") switch
        {
            "sent" => MessageAck.Server,
            "delivered" => MessageAck.Device,
            "read" => MessageAck.Read,
            "failed" => MessageAck.Error,
            _ => (MessageAck?)null,
        };
        if (ack is null)
            return null;
        if (ack != MessageAck.Error)
            return new CloudApiStatus(wamid, ack.Value, TimeOf(s, receivedAt), null, null);
        var error = ArrayOf(s, "errors").FirstOrDefault();
        if (error.ValueKind != JsonValueKind.Object || IntOf(error, "code") is not { } code)
            return new CloudApiStatus(wamid, MessageAck.Error, TimeOf(s, receivedAt), GraphErrorCodes.GraphError, "Meta reported the message as failed without a reason");
        return new CloudApiStatus(wamid, MessageAck.Error, TimeOf(s, receivedAt), GraphErrorCodes.ReasonFor(code), ErrorText(error, code));
    }

    /// <summary>Meta's words for an error (its title, and the details when they say more) and its code.</summary>
    public static string ErrorText(JsonElement error, int code)
    {
        var title = StringOf(error, "title") ?? StringOf(error, "message");
        var details = StringOf(ObjectOf(error, "error_data"), "details");
        var text = (title, details) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) when !string.Equals(title.TrimEnd('.'), details.TrimEnd('.'), StringComparison.OrdinalIgnoreCase) => $"{title}: {details}",
            ({ Length: > 0 }, _) => title,
            (_, { Length: > 0 }) => details,
            _ => "Meta reported an error",
        };
        if (text.Length > MaxErrorText)
            text = text[..MaxErrorText].TrimEnd() + "…";
        return $"{text} (Meta error {code.ToString(CultureInfo.InvariantCulture)})";
    }

    /// <summary>A contact card in the vCard 3.0 WhatsApp phones write: a phone with a WhatsApp account carries its <c>waid</c>.</summary>
    private static string VCard(JsonElement contact)
    {
        var card = new StringBuilder("BEGIN:VCARD\nVERSION:3.0\n");
        var name = ObjectOf(contact, "name");
        var formatted = StringOf(name, "formatted_name")
            ?? string.Join(' ', new[] { StringOf(name, "first_name"), StringOf(name, "last_name") }.OfType<string>()).Trim();
        if (name is not null)
            card.Append("N:").AppendJoin(';', new[] { "last_name", "first_name", "middle_name", "prefix", "suffix" }.Select(p => Escape(StringOf(name, p)))).Append('\n');
        card.Append("FN:").Append(Escape(formatted)).Append('\n');
        if (ObjectOf(contact, "org") is { } org)
        {
            if (StringOf(org, "company") is { } company)
                card.Append("ORG:").Append(Escape(company)).Append(StringOf(org, "department") is { } department ? ";" + Escape(department) : "").Append('\n');
            if (StringOf(org, "title") is { } title)
                card.Append("TITLE:").Append(Escape(title)).Append('\n');
        }
        foreach (var phone in ArrayOf(contact, "phones"))
        {
            var number = StringOf(phone, "phone") ?? StringOf(phone, "wa_id");
            if (number is null)
                continue;
            var waId = StringOf(phone, "wa_id") is { } id && id.All(char.IsAsciiDigit) ? ";waid=" + id : "";
            card.Append("TEL;type=").Append(Escape(StringOf(phone, "type") ?? "CELL")).Append(waId).Append(':').Append(Escape(number)).Append('\n');
        }
        foreach (var email in ArrayOf(contact, "emails"))
            if (StringOf(email, "email") is { } address)
                card.Append("EMAIL;type=").Append(Escape(StringOf(email, "type") ?? "INTERNET")).Append(':').Append(Escape(address)).Append('\n');
        foreach (var url in ArrayOf(contact, "urls"))
            if (StringOf(url, "url") is { } link)
                card.Append("URL:").Append(Escape(link)).Append('\n');
        if (StringOf(contact, "birthday") is { } birthday)
            card.Append("BDAY:").Append(Escape(birthday)).Append('\n');
        return card.Append("END:VCARD").ToString();
    }

    // vCard 3.0 text values: backslash, comma, semicolon and line breaks are escaped (a value cannot start a new property).
    private static string Escape(string? value) =>
        (value ?? "").Replace("\\", "\\\\").Replace(",", "\\,").Replace(";", "\\;").Replace("\r\n", "\\n").Replace("\n", "\\n").Replace("\r", "\\n");

    private static DateTimeOffset TimeOf(JsonElement element, DateTimeOffset fallback) =>
        StringOf(element, "timestamp") is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds is > 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : fallback;

    private static IEnumerable<JsonElement> ArrayOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray()
            : [];

    private static JsonElement? ObjectOf(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    /// <summary>A string property; Meta writes some numbers (timestamps, ids) as strings and some as numbers, both are read.</summary>
    private static string? StringOf(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    private static int? IntOf(JsonElement element, string name) =>
        StringOf(element, name) is { } text && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : null;

    private static double NumberOf(JsonElement element, string name) =>
        StringOf(element, name) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : 0;
}
