using System.Security.Cryptography;

namespace WapBridge.Core.Engines;

public static class WhatsAppIds
{
    /// <summary>A message id in the form WhatsApp Web uses for its own sends: <c>3EB0</c> + 16 upper-case hex.</summary>
    public static string NewMessageId() => "3EB0" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// whatsapp-web.js serialized id of a received message: <c>false_&lt;chat&gt;_&lt;id&gt;</c>, the sender known by
    /// <c>@c.us</c> number or else its <c>@lid</c>; in a group the chat is the group and the sender is appended.
    /// </summary>
    public static string InboundSerializedId(string? fromPhone, string? fromLid, string? groupId, string id)
    {
        var sender = fromPhone is not null ? fromPhone + "@c.us" : fromLid!;
        return groupId is null ? $"false_{sender}_{id}" : $"false_{groupId}_{id}_{sender}";
    }

    /// <summary>
    /// whatsapp-web.js serialized id of our own message in <paramref name="chat"/> (digits, <c>…@lid</c> or a group id);
    /// in a group our own number is appended as the sender.
    /// </summary>
    public static string OutboundSerializedId(string chat, string waId, string? ownPhone)
    {
        var serialized = $"true_{(chat.Contains('@') ? chat : chat + "@c.us")}_{waId}";
        return chat.EndsWith("@g.us", StringComparison.Ordinal) && ownPhone is not null ? $"{serialized}_{ownPhone}@c.us" : serialized;
    }

    /// <summary>The JID engines address a chat by: a number as <c>…@s.whatsapp.net</c>, a LID or group as it is.</summary>
    public const string LidSuffix = "@lid";

    /// <summary>The user part of a LID written <c>&lt;digits&gt;@lid</c>; null for anything else (a phone number, a group id).</summary>
    public static string? LidUserOf(string? id) =>
        id is not null && id.EndsWith(LidSuffix, StringComparison.Ordinal) && id.Length > LidSuffix.Length ? id[..^LidSuffix.Length] : null;

    public static string ChatJid(string chat) => chat.Contains('@') ? chat : chat + "@s.whatsapp.net";

    /// <summary>
    /// The WhatsApp id in a message id as the API shows it: the <c>&lt;id&gt;</c> of a serialized
    /// <c>&lt;fromMe&gt;_&lt;chat&gt;_&lt;id&gt;[_&lt;participant&gt;]</c>, or the id itself.
    /// </summary>
    public static string WaIdOf(string id)
    {
        var parts = id.Trim().Split('_');
        return parts.Length >= 3 && parts[0] is "true" or "false" ? parts[2] : id.Trim();
    }

    /// <summary>whatsapp-web.js message type for a MIME type (contract §2).</summary>
    public static string MessageTypeFor(string? mimeType)
    {
        if (string.IsNullOrWhiteSpace(mimeType)) return "chat";
        var m = mimeType.ToLowerInvariant().Replace(" ", "");
        if (m.StartsWith("image/webp", StringComparison.Ordinal)) return "sticker";
        if (m.StartsWith("image/", StringComparison.Ordinal)) return "image";
        if (m.StartsWith("video/", StringComparison.Ordinal)) return "video";
        if (m.StartsWith("audio/ogg", StringComparison.Ordinal) && m.Contains("codecs=opus")) return "ptt";
        if (m.StartsWith("audio/", StringComparison.Ordinal)) return "audio";
        return "document";
    }
}
