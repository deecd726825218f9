using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public static class ApiPolicies
{
    public const string Scheme = "WapBridgeApi";

    /// <summary>Any valid API key, or the admin token.</summary>
    public const string Customer = "api-customer";

    /// <summary>An Admin user's API key, or the admin token.</summary>
    public const string Admin = "api-admin";
}

/// <summary>
/// <c>Authorization: token key:secret</c>, <c>Bearer key:secret</c> or <c>Basic base64(key:secret)</c>
/// (scheme names case-insensitive), plus <c>Bearer &lt;WAPBRIDGE_ADMIN_TOKEN&gt;</c> for the admin API.
/// A header that cannot be read is 400; unknown or wrong credentials are 401 (contract §1); too many of either from
/// one address are 429 (<see cref="AuthFailureLimiter"/>).
/// Nothing of the header's value reaches an error message or the log: a header mangled by a client (no scheme, a tab,
/// a colon) usually still carries the secret or the admin token.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyService apiKeys,
    AuthFailureLimiter failures,
    IOptions<WapBridgeOptions> wapBridgeOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private const string HowTo = "send 'Authorization: token <api_key>:<api_secret>' with a key from /settings";
    private static readonly object ErrorItem = new();
    private static readonly object RetryAfterItem = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString().Trim();
        if (header.Length == 0)
            return Fail(new FrappeError(401, "AuthenticationError", "missing_credentials", $"Missing Authorization header: {HowTo}", "Authorization"));

        var space = header.IndexOf(' ');
        var scheme = space < 0 ? header : header[..space];
        var value = space < 0 ? "" : header[(space + 1)..].Trim();
        var name = SchemeName(scheme);
        if (value.Length == 0)
            return Refuse(Malformed(name is null
                ? "it needs a scheme and credentials separated by one space"
                : $"there are no credentials after the scheme {name}"));

        string credentials;
        switch (scheme.ToLowerInvariant())
        {
            case "token":
                credentials = value;
                break;
            case "bearer":
                if (!value.Contains(':'))
                    return AuthenticateAdminToken(value);
                credentials = value;
                break;
            case "basic":
                try
                {
                    credentials = Encoding.UTF8.GetString(Convert.FromBase64String(value));
                }
                catch (FormatException)
                {
                    return Refuse(Malformed("the Basic credentials are not valid base64"));
                }
                break;
            default:
                return Refuse(Malformed($"{(name is null ? "this scheme" : "the scheme " + name)} is not supported (use token, Bearer or Basic)"));
        }

        var colon = credentials.IndexOf(':');
        if (colon <= 0 || colon == credentials.Length - 1)
            return Refuse(Malformed("the credentials must have the form <api_key>:<api_secret>"));

        var key = credentials[..colon];
        var caller = await apiKeys.VerifyAsync(key, credentials[(colon + 1)..], Context.RequestAborted);
        if (caller is null)
        {
            // Only a well-formed key id is public; anything else in that place may be a secret pasted the wrong way round.
            if (ApiKeyCredentials.IsWellFormedKey(key))
                Logger.LogInformation("API authentication failed for key {ApiKey}", key);
            else
                Logger.LogInformation("API authentication failed: the key part is not a 15-character key id");
            return Refuse(new FrappeError(401, "AuthenticationError", "invalid_credentials",
                "Invalid API key or secret, or the key was revoked: check both halves in /settings", "Authorization"));
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, caller.Key),
            new(WapBridgeClaims.CustomerId, caller.CustomerId.ToString(CultureInfo.InvariantCulture)),
            new(WapBridgeClaims.CustomerCode, caller.CustomerCode),
            new(WapBridgeClaims.ApiKey, caller.Key),
            new(WapBridgeClaims.ApiKeyId, caller.ApiKeyId.ToString(CultureInfo.InvariantCulture)),
        };
        if (caller.IsAdmin)
            claims.Add(new Claim(ClaimTypes.Role, Roles.Admin));
        return Success(claims);
    }

    private AuthenticateResult AuthenticateAdminToken(string presented)
    {
        var expected = wapBridgeOptions.Value.AdminToken;
        if (string.IsNullOrEmpty(expected))
            return Refuse(Malformed("Bearer credentials must have the form <api_key>:<api_secret> (no admin token is configured)"));
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            return Refuse(new FrappeError(401, "AuthenticationError", "invalid_credentials", "Invalid admin token (WAPBRIDGE_ADMIN_TOKEN)", "Authorization"));
        return Success([new Claim(ClaimTypes.Name, "admin-token"), new Claim(ClaimTypes.Role, Roles.Admin)]);
    }

    /// <summary>
    /// The scheme, quoted for an error message, only when it looks like one (token, Digest, NTLM, …); null for anything
    /// longer or with other characters, which may be a credential sent without a scheme.
    /// </summary>
    private static string? SchemeName(string scheme) =>
        scheme.Length is > 0 and <= 20 && char.IsAsciiLetter(scheme[0]) && scheme.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            ? $"'{scheme}'"
            : null;

    /// <summary>A failed attempt: counted for the client's address, and 429 once that address failed too often.</summary>
    private AuthenticateResult Refuse(FrappeError error)
    {
        if (failures.RecordFailure(Context.Connection.RemoteIpAddress) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            Context.Items[RetryAfterItem] = seconds;
            error = new FrappeError(StatusCodes.Status429TooManyRequests, "TooManyRequestsError", "too_many_failed_authentications",
                $"Too many failed authentications from your address; retry after {seconds} s. This attempt failed too: {error.Message}", "Authorization");
        }
        return Fail(error);
    }

    private AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name)), Scheme.Name));

    private static FrappeError Malformed(string why) =>
        new(StatusCodes.Status400BadRequest, "InvalidAuthorizationHeader", "malformed_authorization", $"Malformed Authorization header: {why}; {HowTo}", "Authorization");

    private AuthenticateResult Fail(FrappeError error)
    {
        Context.Items[ErrorItem] = error;
        return AuthenticateResult.Fail(error.Message);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var error = Context.Items[ErrorItem] as FrappeError
            ?? new FrappeError(401, "AuthenticationError", "missing_credentials", $"Missing Authorization header: {HowTo}", "Authorization");
        Response.Headers.WWWAuthenticate = "token";
        if (Context.Items[RetryAfterItem] is int seconds)
            Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return error.WriteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var message = Context.User.IsInRole(Roles.Admin)
            ? "Not permitted"
            : "Not permitted: this method needs an administrator's API key or the WAPBRIDGE_ADMIN_TOKEN";
        return FrappeError.NotPermitted(message).WriteAsync(Context);
    }
}
