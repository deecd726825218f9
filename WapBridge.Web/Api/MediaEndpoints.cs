using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;

namespace WapBridge.Web.Api;

/// <summary>Serves media behind the signed, expiring links that webhooks carry in <c>media.url</c>.</summary>
public static class MediaEndpoints
{
    public static void MapMediaEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet(MediaLinks.PathPrefix + "{token}", (string token, MediaLinks links, IMediaStore store) =>
        {
            var target = links.Resolve(token);
            if (target is null)
                return Results.Json(new { error = "This media link is invalid or has expired." }, statusCode: StatusCodes.Status404NotFound);
            var content = store.OpenRead(target.Hash);
            return content is null
                ? Results.Json(new { error = "This media file is no longer kept." }, statusCode: StatusCodes.Status410Gone)
                : Results.File(content, target.MimeType, target.FileName);
        }).ExcludeFromDescription();
}
