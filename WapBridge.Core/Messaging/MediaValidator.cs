using System.Text;
using WapBridge.Core.Common;

namespace WapBridge.Core.Messaging;

public sealed record ValidatedMedia(byte[] Data, string MimeType, string Filename, string Type);

/// <summary>Checks media as contract §2 asks: real base64, a MIME type the bytes do not contradict, size per kind, a safe file name.</summary>
public static class MediaValidator
{
    public static ValidatedMedia Validate(string mediaData, string? mimeType, string? filename, MediaLimits limits)
    {
        var data = DecodeWithinLimit(mediaData, mimeType, limits);
        var mime = mimeType!.Trim().ToLowerInvariant();
        var type = Engines.WhatsAppIds.MessageTypeFor(mime);

        var sniffed = Sniff(data);
        if (sniffed is not null && !Compatible(mime, sniffed))
            throw WapBridgeException.Invalid("mime_type", "mime_type_mismatch",
                $"mime_type says {mime} but the bytes of media_data are {sniffed}; send the matching mime_type");
        if (sniffed is null && KnownSignature(mime))
            throw WapBridgeException.Invalid("mime_type", "mime_type_mismatch",
                $"media_data is not a {mime} file (its first bytes do not match); check mime_type and the encoding");

        filename = string.IsNullOrWhiteSpace(filename) ? DefaultName(type, mime) : filename.Trim();
        if (filename.IndexOfAny(['/', '\\', '\0']) >= 0 || filename is "." or ".." || filename.Length > 255)
            throw WapBridgeException.Invalid("filename", "invalid_filename", $"filename '{filename}' must be a plain file name without folders");

        return new ValidatedMedia(data, mimeType.Trim(), filename, type == "sticker" ? "image" : type);
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

        var (limit, kind) = Engines.WhatsAppIds.MessageTypeFor(mime) switch
        {
            "image" or "sticker" => (limits.ImageBytes, "image"),
            "video" => (limits.VideoBytes, "video"),
            "audio" or "ptt" => (limits.AudioBytes, "audio"),
            _ => (limits.DocumentBytes, "document"),
        };
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
    internal static string? Sniff(byte[] d)
    {
        bool At(int offset, params byte[] sig) => d.Length >= offset + sig.Length && d.AsSpan(offset, sig.Length).SequenceEqual(sig);
        bool Ascii(int offset, string s) => At(offset, Encoding.ASCII.GetBytes(s));

        if (At(0, 0xFF, 0xD8, 0xFF)) return "image/jpeg";
        if (At(0, 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)) return "image/png";
        if (Ascii(0, "GIF87a") || Ascii(0, "GIF89a")) return "image/gif";
        if (Ascii(0, "RIFF") && Ascii(8, "WEBP")) return "image/webp";
        if (Ascii(0, "%PDF-")) return "application/pdf";
        if (Ascii(0, "OggS")) return "audio/ogg";
        if (Ascii(0, "ID3") || At(0, 0xFF, 0xFB) || At(0, 0xFF, 0xF3) || At(0, 0xFF, 0xF2)) return "audio/mpeg";
        if (Ascii(4, "ftyp"))
            return Ascii(8, "M4A ") ? "audio/mp4" : Ascii(8, "3gp") ? "video/3gpp" : "video/mp4";
        if (Ascii(0, "RIFF") && Ascii(8, "WAVE")) return "audio/wav";
        if (At(0, 0x1A, 0x45, 0xDF, 0xA3)) return "video/webm";
        if (At(0, 0x50, 0x4B, 0x03, 0x04)) return "application/zip";
        return null;
    }

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
        _ => mime.StartsWith("application/pdf") ? "document.pdf" : "document",
    };
}
