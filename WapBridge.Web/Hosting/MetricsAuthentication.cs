using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using WapBridge.Web.Api;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Hosting;

/// <summary>
/// Who scrapes <c>/metrics</c>: a request with an <c>Authorization</c> header is judged by the API scheme alone (an
/// Admin's API key or the admin token), any other by the dashboard's session cookie. Refusals are the contract's
/// JSON errors: a scraper is no browser, so no redirect to the login page, and a request without credentials is a 401
/// even though the cookie scheme would redirect it. A policy naming both schemes would run both challenges on one
/// response, a redirect and a JSON body at once.
/// </summary>
public sealed class MetricsAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "WapBridgeMetrics";

    private const string Who = "an Admin's session or API key, or 'Authorization: Bearer <WAPBRIDGE_ADMIN_TOKEN>'";

    private bool HasAuthorizationHeader => !string.IsNullOrWhiteSpace(Request.Headers.Authorization);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Context.AuthenticateAsync(HasAuthorizationHeader ? ApiPolicies.Scheme : IdentityConstants.ApplicationScheme);

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // The API scheme's own answer keeps its detail: a malformed header (400), wrong credentials (401), too many failures (429).
        if (HasAuthorizationHeader)
            return Context.ChallengeAsync(ApiPolicies.Scheme);
        Response.Headers.WWWAuthenticate = "Bearer";
        return new FrappeError(StatusCodes.Status401Unauthorized, "AuthenticationError", "missing_credentials",
            $"Missing credentials: /metrics needs {Who}", "Authorization").WriteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        FrappeError.NotPermitted($"Not permitted: /metrics is for Admins only: scrape it with {Who}").WriteAsync(Context);
}
