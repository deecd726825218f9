using System.Security.Cryptography;

namespace WapBridge.Core.Engines;

public static class WhatsAppIds
{
    /// <summary>A message id in the form WhatsApp Web uses for its own sends: <c>3EB0</c> + 16 upper-case hex.</summary>
    public static string NewMessageId() => "3EB0" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));

    /// <summary>whatsapp-web.js message type for a MIME type (contract §2).</summary>
    public static string MessageTypeFor(string? mimeType)
    {
        if (string.IsNullOrWhiteSpace(mimeType)) return "chat";
        var m = mimeType.ToLowerInvariant().Replace(" ", "");
        if (m.StartsWith("image/webp")) return "sticker";
        if (m.StartsWith("image/")) return "image";
        if (m.StartsWith("video/")) return "video";
        if (m.StartsWith("audio/ogg") && m.Contains("codecs=opus")) return "ptt";
        if (m.StartsWith("audio/")) return "audio";
        return "document";
    }
}
