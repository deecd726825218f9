using System.Globalization;
using System.Text;
using Microsoft.Net.Http.Headers;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;

namespace WapBridge.Web.Api;

/// <summary>
/// Serves media behind the signed, expiring links that webhooks carry in <c>media.url</c> and the dashboard previews.
/// The sender chooses the type (any WhatsApp contact, on Baileys) and the files are served from the dashboard's
/// origin: only types a browser merely displays are shown inline; anything else (HTML, SVG, scripts…) is a download
/// of opaque bytes. Every answer is sandboxed and unsniffable, so no file ever runs as a page of this origin.
/// </summary>
public static class MediaEndpoints
{
    private const string Sandbox = "sandbox; default-src 'none'";

    public static void MapMediaEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet(MediaLinks.PathPrefix + "{token}", (string token, HttpContext context, MediaLinks links, IMediaStore store) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = Sandbox;
            headers.XContentTypeOptions = "nosniff";
            var target = links.Resolve(token);
            if (target is null)
                return Results.Json(new { error = "This media link is invalid or has expired." }, statusCode: StatusCodes.Status404NotFound);
            var content = store.OpenRead(target.Hash);
            if (content is null)
                return Results.Json(new { error = "This media file is no longer kept." }, statusCode: StatusCodes.Status410Gone);
            var inline = InlineType(target.MimeType);
            var disposition = new ContentDispositionHeaderValue(inline is null ? "attachment" : "inline");
            disposition.SetHttpFileName(SafeFileName(target.FileName));
            headers.ContentDisposition = disposition.ToString();
            return Results.Stream(content, inline ?? "application/octet-stream");
        }).ExcludeFromDescription();

    /// <summary>
    /// The type to show <paramref name="mimeType"/> inline with (images other than SVG, audio, video, PDF), or null when
    /// it may only be downloaded.
    /// </summary>
    public static string? InlineType(string? mimeType)
    {
        if (!MediaTypeHeaderValue.TryParse(mimeType, out var parsed) || parsed.MediaType.Value is not { } value)
            return null;
        var type = value.ToLowerInvariant();
        return type switch
        {
            "image/jpeg" or "image/jpg" => "image/jpeg",
            "image/png" or "image/gif" or "image/webp" or "application/pdf" => type,
            _ when type.StartsWith("audio/", StringComparison.Ordinal) || type.StartsWith("video/", StringComparison.Ordinal) => type,
            _ => null,
        };
    }

    // The sender's name without folders, quotes, control or direction-override characters and leading dots; "media"
    // when nothing is left.
    private static string SafeFileName(string? name)
    {
        var kept = new StringBuilder();
        foreach (var rune in (name ?? "").EnumerateRunes())
            if (rune != Rune.ReplacementChar && !(rune.IsAscii && "/\\\"".Contains((char)rune.Value))
                && Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format))
                kept.Append(rune);
        var safe = kept.ToString().Trim().TrimStart('.');
        if (safe.Length > 200)
        {
            // Keep the end, where the extension is, without splitting a surrogate pair.
            var start = safe.Length - 200;
            safe = safe[(char.IsLowSurrogate(safe[start]) ? start + 1 : start)..];
        }
        return safe.Length == 0 ? "media" : safe;
    }
}
