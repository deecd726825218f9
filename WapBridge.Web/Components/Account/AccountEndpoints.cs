using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using WapBridge.Core.Accounts;

namespace WapBridge.Web.Components.Account;

internal static class AccountEndpoints
{
    /// <summary>Endpoints the account pages post to that are not pages themselves.</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A form post: [FromForm] makes the antiforgery middleware check the token.
        endpoints.MapPost("/Account/Logout", async (
                [FromServices] SignInManager<WapBridgeUser> signInManager,
                [FromForm] string? returnUrl) =>
            {
                await signInManager.SignOutAsync();
                return TypedResults.LocalRedirect(IsLocal(returnUrl) ? returnUrl! : "~/Account/Login");
            })
            .ExcludeFromDescription();
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
}
