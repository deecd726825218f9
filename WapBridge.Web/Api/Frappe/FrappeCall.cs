using System.Globalization;
using System.Security.Claims;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;

namespace WapBridge.Web.Api.Frappe;

/// <summary>What an API method handler knows about its request: who calls, and the request's services.</summary>
public sealed class FrappeCall(HttpContext http)
{
    public HttpContext Http { get; } = http;
    public CancellationToken Aborted => Http.RequestAborted;
    public bool IsAdmin => Http.User.IsInRole(Roles.Admin);

    /// <summary>The authenticated API key's customer; only null for the bootstrap admin token.</summary>
    public ApiCaller? Caller { get; } = FromPrincipal(http.User);

    /// <summary>The caller's customer id, for methods that act on one customer's data.</summary>
    public int CustomerId => Caller?.CustomerId
        ?? throw new WapBridgeException(ErrorKind.Permission, "customer_key_required",
            "This method acts on a customer's data; call it with that customer's API key, not the admin token.");

    public T Service<T>() where T : notnull => Http.RequestServices.GetRequiredService<T>();

    internal FrappeArgumentSet? Arguments { get; init; }

    /// <summary>
    /// Whether the request named <paramref name="name"/> at all: where an argument left out keeps a setting and one sent
    /// as <c>null</c> clears it, the bound record cannot tell the two apart.
    /// </summary>
    public bool Given(string name) => Arguments?.TryGet(name, out _) == true;

    private List<string>? _shownOnce;

    /// <summary>
    /// Marks a secret this answer shows for the only time (a new API secret, a generated webhook secret): the answer
    /// kept for Idempotency-Key retries has it masked, so it is never stored (contract §1).
    /// </summary>
    public void ShownOnce(string secret) => (_shownOnce ??= []).Add(secret);

    internal IReadOnlyList<string> ShownOnceSecrets => _shownOnce ?? [];

    internal static ApiCaller? FromPrincipal(ClaimsPrincipal user)
    {
        var id = user.FindFirstValue(WapBridgeClaims.CustomerId);
        var keyId = user.FindFirstValue(WapBridgeClaims.ApiKeyId);
        if (id is null || keyId is null)
            return null;
        return new ApiCaller(int.Parse(id, CultureInfo.InvariantCulture), user.FindFirstValue(WapBridgeClaims.CustomerCode)!, int.Parse(keyId, CultureInfo.InvariantCulture),
            user.FindFirstValue(WapBridgeClaims.ApiKey)!, user.IsInRole(Roles.Admin));
    }
}
