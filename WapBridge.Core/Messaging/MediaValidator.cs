using WapBridge.Core.Common;

namespace WapBridge.Core.Messaging;

/// <summary>Media that passed <see cref="MediaValidator"/>, still in its upload until the caller commits it.</summary>
public sealed record ValidatedMedia(MediaUpload Upload, string MimeType, string Filename, string Type)
{
    public long Size => Upload.Length;
}

/// <summary>Checks media as contract §2 asks: real base64, a MIME type the bytes do not contradict, size per kind, a safe file name.</summary>
public static class MediaValidator
{
    /// <summary>The largest file any kind allows: an upload keeps no more than this.</summary>
    public static long Largest(MediaLimits limits) =>
        Math.Max(Math.Max(limits.ImageBytes, limits.DocumentBytes), Math.Max(limits.VideoBytes, limits.AudioBytes));

    /// <summary>The size limit for media of <paramref name="mimeType"/> and the kind it names in errors.</summary>
    public static (long Limit, string Kind) LimitFor(string mimeType, MediaLimits limits) =>
        Engines.WhatsAppIds.MessageTypeFor(mimeType.Trim().ToLowerInvariant()) switch
        {
            "image" or "sticker" => (limits.ImageBytes, "image"),
            "video" => (limits.VideoBytes, "video"),
            "audio" or "ptt" => (limits.AudioBytes, "audio"),
            _ => (limits.DocumentBytes, "document"),
        };

    public static ValidatedMedia Validate(MediaUpload upload, string? mimeType, string? filename, MediaLimits limits)
    {
        var field = upload.Field;
        if (upload.Problem == Base64MediaDecoder.InvalidBase64)
            throw WapBridgeException.Invalid(field, "invalid_base64", $"{field} is not valid base64 (send the file's bytes base64-encoded, without a data: prefix)");
        if (string.IsNullOrWhiteSpace(mimeType))
            throw WapBridgeException.Missing("mime_type");
        var mime = mimeType.Trim().ToLowerInvariant();
        if (!mime.Contains('/') || mime.Any(char.IsControl) || mime.Any(char.IsWhiteSpace) && !mime.Contains(';'))
            throw WapBridgeException.Invalid("mime_type", "invalid_mime_type", $"mime_type '{mimeType}' is not a MIME type such as image/jpeg or application/pdf");

        if (upload.Length == 0)
            throw WapBridgeException.Invalid(field, "empty_media", $"{field} decodes to an empty file");

        var type = Engines.WhatsAppIds.MessageTypeFor(mime);
        var (limit, kind) = LimitFor(mime, limits);
        if (upload.Length > limit || upload.OverLimit)
            throw WapBridgeException.Invalid(field, "media_too_large",
                $"{field} is {upload.Length:N0} bytes; a {kind} may be at most {limit:N0} bytes");

        // Fetched media is at fault itself when its bytes contradict its type (the server's Content-Type, usually).
        var typeField = field == MediaFetcher.Field ? field : "mime_type";
        var sniffed = Sniff(upload.Head);
        if (sniffed is not null && !Compatible(mime, sniffed))
            throw WapBridgeException.Invalid(typeField, "mime_type_mismatch",
                $"mime_type says {mime} but the bytes of {field} are {sniffed}; send the matching mime_type");
        if (sniffed is null && KnownSignature(mime))
            throw WapBridgeException.Invalid(typeField, "mime_type_mismatch",
                $"{field} is not a {mime} file (its first bytes do not match); check mime_type and the encoding");

        filename = string.IsNullOrWhiteSpace(filename) ? DefaultName(type, mime) : filename.Trim();
        if (filename.IndexOfAny(['/', '\\', '\0']) >= 0 || filename is "." or ".." || filename.Length > 255)
            throw WapBridgeException.Invalid("filename", "invalid_filename", $"filename '{filename}' must be a plain file name without folders");

        return new ValidatedMedia(upload, mimeType.Trim(), filename, type == "sticker" ? "image" : type);
    }

    /// <summary>
    /// What every media argument needs: a MIME type, real base64 and a non-empty file within the size limit of its
    /// kind. Media as a phone sends it (the simulator's inbound messages) is checked this far only: its type is what
    /// the sender says.
    /// </summary>
    public static byte[] DecodeWithinLimit(string mediaData, string? mimeType, MediaLimits limits)
    {
        if (string.IsNullOrWhiteSpace(mimeType))
            throw WapBridgeException.Missing("mime_type");
        var mime = mimeType.Trim().ToLowerInvariant();
        if (!mime.Contains('/') || mime.Any(char.IsControl) || mime.Any(char.IsWhiteSpace) && !mime.Contains(';'))
            throw WapBridgeException.Invalid("mime_type", "invalid_mime_type", $"mime_type '{mimeType}' is not a MIME type such as image/jpeg or application/pdf");

        var data = Decode(mediaData);
        if (data.Length == 0)
            throw WapBridgeException.Invalid("media_data", "empty_media", "media_data decodes to an empty file");

        var (limit, kind) = LimitFor(mime, limits);
        if (data.Length > limit)
            throw WapBridgeException.Invalid("media_data", "media_too_large",
                $"media_data is {data.Length:N0} bytes; a {kind} may be at most {limit:N0} bytes");
        return data;
    }

    private static byte[] Decode(string mediaData)
    {
        var text = mediaData.Trim();
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && text.IndexOf(',') is > 0 and var comma)
            text = text[(comma + 1)..];
        text = text.Replace("\r", "").Replace("\n", "").Replace(" ", "");
        // Accept the URL-safe alphabet too; some clients send it.
        text = text.Replace('-', '+').Replace('_', '/');
        if (text.Length % 4 != 0)
            text = text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=');
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw WapBridgeException.Invalid("media_data", "invalid_base64", "media_data is not valid base64 (send the file's bytes base64-encoded, without a data: prefix)");
        }
    }

    /// <summary>The MIME type the bytes announce, when they carry a signature we know.</summary>
    internal static string? Sniff(ReadOnlySpan<byte> d)
    {
        if (At(d, 0, 0xFF, 0xD8, 0xFF)) return "image/jpeg";
        if (At(d, 0, 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)) return "image/png";
        if (At(d, 0, "GIF87a"u8) || At(d, 0, "GIF89a"u8)) return "image/gif";
        if (At(d, 0, "RIFF"u8) && At(d, 8, "WEBP"u8)) return "image/webp";
        if (At(d, 0, "%PDF-"u8)) return "application/pdf";
        if (At(d, 0, "OggS"u8)) return "audio/ogg";
        if (At(d, 0, "ID3"u8) || At(d, 0, 0xFF, 0xFB) || At(d, 0, 0xFF, 0xF3) || At(d, 0, 0xFF, 0xF2)) return "audio/mpeg";
        if (At(d, 4, "ftyp"u8))
            return At(d, 8, "M4A "u8) ? "audio/mp4" : At(d, 8, "3gp"u8) ? "video/3gpp" : "video/mp4";
        if (At(d, 0, "RIFF"u8) && At(d, 8, "WAVE"u8)) return "audio/wav";
        if (At(d, 0, 0x1A, 0x45, 0xDF, 0xA3)) return "video/webm";
        if (At(d, 0, 0x50, 0x4B, 0x03, 0x04)) return "application/zip";
        return null;
    }

    private static bool At(ReadOnlySpan<byte> d, int offset, params ReadOnlySpan<byte> signature) =>
        d.Length >= offset + signature.Length && d.Slice(offset, signature.Length).SequenceEqual(signature);

    private static bool KnownSignature(string mime) =>
        mime.Split(';')[0] is "image/jpeg" or "image/jpg" or "image/png" or "image/gif" or "image/webp" or "application/pdf";

    private static bool Compatible(string declared, string sniffed)
    {
        var d = declared.Split(';')[0].Trim();
        if (d == sniffed || (d == "image/jpg" && sniffed == "image/jpeg")) return true;
        var dFamily = d.Split('/')[0];
        var sFamily = sniffed.Split('/')[0];
        return sniffed switch
        {
            // Office documents, APKs and archives are all zip containers.
            "application/zip" => dFamily == "application",
            "audio/ogg" => d is "audio/ogg" or "audio/opus" or "application/ogg" or "video/ogg",
            "video/mp4" or "video/3gpp" or "audio/mp4" => dFamily is "video" or "audio",
            "video/webm" => d is "video/webm" or "audio/webm",
            _ => dFamily == sFamily && dFamily != "image" && d != "application/pdf"
                || dFamily == "application" && d is "application/octet-stream",
        };
    }

    private static string DefaultName(string type, string mime) => type switch
    {
        "image" or "sticker" => "image." + mime.Split('/')[1].Split(';')[0],
        "video" => "video.mp4",
        "ptt" or "audio" => "audio." + (mime.Contains("ogg") ? "ogg" : "mp3"),
        _ => mime.StartsWith("application/pdf", StringComparison.Ordinal) ? "document.pdf" : "document",
    };
}
