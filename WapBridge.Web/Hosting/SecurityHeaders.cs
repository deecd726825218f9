using System.Security.Cryptography;
using WapBridge.Core.Webhooks;

namespace WapBridge.Web.Hosting;

/// <summary>
/// Browser hardening on every response: a Content-Security-Policy, <c>nosniff</c>, no framing and no referrer to
/// other sites. The dashboard's policy admits scripts from this origin and, for the one inline script Blazor
/// writes (its import map), this request's nonce; everything a sender controls is served from <c>/media/</c>
/// with a sandbox of its own (<see cref="Api.MediaEndpoints"/>).
/// </summary>
public static class SecurityHeaders
{
    private const string NonceKey = "WapBridge.CspNonce";
    private static readonly PathString MediaPath = MediaLinks.PathPrefix.TrimEnd('/');

    // Scalar's reference page starts itself with an inline module script it writes without a nonce; it shows only
    // our own OpenAPI document.
    private const string ApiReferencePolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        + "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    // The Hangfire dashboard (Admin only) loads only its own scripts, but writes no nonce.
    private const string HangfirePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    // JSON answers never need to load anything.
    private const string ApiPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>The nonce this request's page gives its inline scripts; null outside dashboard pages.</summary>
    public static string? CspNonce(this HttpContext context) => context.Items[NonceKey] as string;

    public static IApplicationBuilder UseWapBridgeSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            string? policy;
            if (path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi"))
                policy = ApiPolicy;
            else if (path.StartsWithSegments("/api-reference"))
                policy = ApiReferencePolicy;
            else if (path.StartsWithSegments("/hangfire"))
                policy = HangfirePolicy;
            else if (path.StartsWithSegments(MediaPath))
                policy = null; // the media endpoint sets its own sandbox
            else
            {
                // Hex, so that no HTML encoding of the attribute ever differs from the header.
                var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                context.Items[NonceKey] = nonce;
                policy = DashboardPolicy(nonce);
            }
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                // Replaces Blazor's own (frame-ancestors only) on interactive pages.
                if (policy is not null)
                    headers.ContentSecurityPolicy = policy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "same-origin";
                return Task.CompletedTask;
            });
            return next(context);
        });

    // style-src needs 'unsafe-inline': MudBlazor and Blazor's reconnect UI set style attributes. The circuit is a
    // WebSocket to this origin (ws:/wss: for browsers that do not count it as 'self').
    private static string DashboardPolicy(string nonce) =>
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "connect-src 'self' ws: wss:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
}
