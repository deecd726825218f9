using System.Globalization;
using System.Security.Claims;
using WapBridge.Core.Accounts;

namespace WapBridge.Web.Components.Shared;

/// <summary>Reads the dashboard user's customer from the sign-in cookie's claims.</summary>
public static class UserClaims
{
    public static int? CustomerId(this ClaimsPrincipal user) =>
        int.TryParse(user.FindFirstValue(WapBridgeClaims.CustomerId), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public static string? CustomerCode(this ClaimsPrincipal user) => user.FindFirstValue(WapBridgeClaims.CustomerCode);

    public static string? UserId(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);
}
