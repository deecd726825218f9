using System.Globalization;
using System.Text.Json;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>How a send reaches the bridge and how its refusal comes back: the media kind of a file, and a failed send as the outbox decides on it.</summary>
internal static class BaileysSendPath
{
    /// <summary>
    /// A refused send as the outbox decides on it: WhatsApp's code when it gave one (463, 428, …); the bridge gone, not
    /// answering or its socket not open is <c>not_connected</c>, retried with the same id once the session is back.
    /// </summary>
    public static EngineSendResult SendFailure(BridgeException e)
    {
        if (e.Code is "bridge_exited" or "timeout" or "unknown_session" or "not_connected")
            return EngineSendResult.Failed("not_connected", e.Message);
        if (e.StatusCode is not { } status)
            return EngineSendResult.Failed(e.Code, e.Message);
        DateTimeOffset? until = null;
        if (e.Error.ValueKind == JsonValueKind.Object && e.Error.TryGetProperty("restriction", out var restriction)
            && BridgeProcess.Str(restriction, "until") is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            until = parsed;
        return EngineSendResult.Failed(status.ToString(CultureInfo.InvariantCulture), e.Message) with { RestrictedUntil = until };
    }

    /// <summary>
    /// The bridge's media kind for a MIME type: an Opus voice note is <c>voice</c>; WebP is an image (the API has no way
    /// to ask for a sticker, contract §2: <c>image/*</c> is an image). A GIF is <c>gif</c>: WhatsApp plays GIFs only as MP4
    /// video with <c>gifPlayback</c> (a GIF sent as an image arrives as a still frame), so the bridge transcodes it with
    /// the ffmpeg it ships, or sends it as a document where it has none.
    /// </summary>
    public static string MediaKind(string mimeType) => WhatsAppIds.MessageTypeFor(mimeType) switch
    {
        "ptt" => "voice",
        "sticker" => "image",
        "image" when IsGif(mimeType) => "gif",
        "chat" => "document",
        var type => type,
    };

    private static bool IsGif(string mimeType) => mimeType.Trim().StartsWith("image/gif", StringComparison.OrdinalIgnoreCase);
}
