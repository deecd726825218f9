using System.Text;
using WapBridge.Core.Engines.CloudApi;

namespace WapBridge.Web.Api;

/// <summary>
/// The callback URL a Cloud API instance gives Meta (contract §11): <c>GET</c> answers the verification handshake,
/// <c>POST</c> takes Meta's signed callbacks and stores them before answering 200 (Meta calls again on anything else).
/// Meta signs with the app secret instead of authenticating, so these routes take no API key, cookie or antiforgery token.
/// </summary>
public static class CloudApiWebhookEndpoints
{
    public const string PathPrefix = "/webhooks/cloudapi/";
    private const string SignatureHeader = "X-Hub-Signature-256";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void MapCloudApiWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(PathPrefix + "{instanceId}", VerifyAsync).ExcludeFromDescription();
        app.MapPost(PathPrefix + "{instanceId}", ReceiveAsync).ExcludeFromDescription().DisableAntiforgery();
    }

    private static async Task<IResult> VerifyAsync(string instanceId, HttpContext context, CloudApiCallbackInbox inbox, ILogger<CloudApiCallbackInbox> logger)
    {
        if (await inbox.FindAsync(instanceId, context.RequestAborted) is not { } target)
            return NoSuchInstance(instanceId);
        var query = context.Request.Query;
        if (target.Credentials is null || !CloudApiCallbackInbox.IsVerification(target.Credentials, query["hub.mode"], query["hub.verify_token"]))
        {
            logger.LogWarning("Webhook verification for Cloud API instance {Instance} refused: wrong mode or verify token", target.Code);
            return Results.Text("hub.verify_token does not match this instance's verify token (or hub.mode is not subscribe): "
                + "paste the verify token WapBridge showed for the instance into Meta's app.", "text/plain", Encoding.UTF8, StatusCodes.Status403Forbidden);
        }
        logger.LogInformation("Meta verified the callback URL of Cloud API instance {Instance}", target.Code);
        return Results.Text(query["hub.challenge"].ToString(), "text/plain", Encoding.UTF8, StatusCodes.Status200OK);
    }

    private static async Task<IResult> ReceiveAsync(string instanceId, HttpContext context, CloudApiCallbackInbox inbox, ILogger<CloudApiCallbackInbox> logger)
    {
        var ct = context.RequestAborted;
        if (await inbox.FindAsync(instanceId, ct) is not { } target)
            return NoSuchInstance(instanceId);
        var body = await ReadCappedAsync(context.Request, CloudApiCallbackInbox.MaxBodyBytes, ct);
        if (body is null)
            return Results.Text($"A callback is at most {CloudApiCallbackInbox.MaxBodyBytes} bytes.", "text/plain", Encoding.UTF8,
                StatusCodes.Status413PayloadTooLarge);
        // The signature covers exactly these bytes: it is checked before they are read as anything.
        if (target.Credentials is null || !CloudApiCallbackInbox.IsSigned(body, context.Request.Headers[SignatureHeader], target.Credentials.AppSecret))
        {
            logger.LogWarning("Cloud API callback for instance {Instance} refused: {Header} missing or not made with the instance's app secret",
                target.Code, SignatureHeader);
            return Results.Text($"{SignatureHeader} is missing or does not match: the app secret set on the instance must be the Meta app's.",
                "text/plain", Encoding.UTF8, StatusCodes.Status401Unauthorized);
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return Results.Text("The callback body is not UTF-8 JSON.", "text/plain", Encoding.UTF8, StatusCodes.Status400BadRequest);
        }
        await inbox.StoreAsync(target.InstanceId, text, ct);
        inbox.Nudge(target.Code);
        return Results.Text("EVENT_RECEIVED", "text/plain", Encoding.UTF8, StatusCodes.Status200OK);
    }

    private static IResult NoSuchInstance(string instanceId) =>
        Results.Text($"There is no Cloud API instance {instanceId}: check the callback URL in Meta's app.", "text/plain", Encoding.UTF8,
            StatusCodes.Status404NotFound);

    /// <summary>The whole body, or null when it is longer than <paramref name="limit"/> (read no further than that).</summary>
    private static async Task<byte[]?> ReadCappedAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
            return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
                return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
