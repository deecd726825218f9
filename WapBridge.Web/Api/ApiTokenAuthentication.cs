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
/// A header that cannot be read is 400; unknown or wrong credentials are 401 (contract §1).
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyService apiKeys,
    IOptions<WapBridgeOptions> wapBridgeOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private const string HowTo = "send 'Authorization: token <api_key>:<api_secret>' with a key from /settings";
    private static readonly object ErrorItem = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString().Trim();
        if (header.Length == 0)
            return Fail(new FrappeError(401, "AuthenticationError", "missing_credentials", $"Missing Authorization header: {HowTo}", "Authorization"));

        var space = header.IndexOf(' ');
        var scheme = space < 0 ? header : header[..space];
        var value = space < 0 ? "" : header[(space + 1)..].Trim();
        if (value.Length == 0)
            return Fail(Malformed($"the Authorization header has no credentials after '{scheme}'"));

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
                    return Fail(Malformed("the Basic credentials are not valid base64"));
                }
                break;
            default:
                return Fail(Malformed($"the Authorization scheme '{scheme}' is not supported"));
        }

        var colon = credentials.IndexOf(':');
        if (colon <= 0 || colon == credentials.Length - 1)
            return Fail(Malformed("the credentials must have the form <api_key>:<api_secret>"));

        var caller = await apiKeys.VerifyAsync(credentials[..colon], credentials[(colon + 1)..], Context.RequestAborted);
        if (caller is null)
        {
            Logger.LogInformation("API authentication failed for key {ApiKey}", credentials[..Math.Min(colon, 15)]);
            return Fail(new FrappeError(401, "AuthenticationError", "invalid_credentials",
                "Invalid API key or secret, or the key was revoked: check both halves in /settings", "Authorization"));
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, caller.Key),
            new(WapBridgeClaims.CustomerId, caller.CustomerId.ToString()),
            new(WapBridgeClaims.CustomerCode, caller.CustomerCode),
            new(WapBridgeClaims.ApiKey, caller.Key),
            new(WapBridgeClaims.ApiKeyId, caller.ApiKeyId.ToString()),
        };
        if (caller.IsAdmin)
            claims.Add(new Claim(ClaimTypes.Role, Roles.Admin));
        return Success(claims);
    }

    private AuthenticateResult AuthenticateAdminToken(string presented)
    {
        var expected = wapBridgeOptions.Value.AdminToken;
        if (string.IsNullOrEmpty(expected))
            return Fail(Malformed("Bearer credentials must have the form <api_key>:<api_secret> (no admin token is configured)"));
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            return Fail(new FrappeError(401, "AuthenticationError", "invalid_credentials", "Invalid admin token (WAPBRIDGE_ADMIN_TOKEN)", "Authorization"));
        return Success([new Claim(ClaimTypes.Name, "admin-token"), new Claim(ClaimTypes.Role, Roles.Admin)]);
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
