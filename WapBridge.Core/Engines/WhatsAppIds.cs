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
