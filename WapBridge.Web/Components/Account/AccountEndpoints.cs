using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using WapBridge.Core.Accounts;

namespace WapBridge.Web.Components.Account;

internal static class AccountEndpoints
{
    /// <summary>Endpoints the account pages post to that are not pages themselves.</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The antiforgery token is checked here rather than by form binding, which throws on a missing token (a 500).
        endpoints.MapPost("/Account/Logout", async (
                HttpContext context,
                [FromServices] IAntiforgery antiforgery,
                [FromServices] SignInManager<WapBridgeUser> signInManager) =>
            {
                if (!await antiforgery.IsRequestValidAsync(context))
                    return Results.Text("The logout form has expired: reload the page and log out again.", statusCode: StatusCodes.Status400BadRequest);
                var returnUrl = (await context.Request.ReadFormAsync(context.RequestAborted))["returnUrl"].ToString();
                await signInManager.SignOutAsync();
                return Results.LocalRedirect(IdentityRedirectManager.IsLocalPath(returnUrl) ? returnUrl : "~/Account/Login");
            })
            .DisableAntiforgery()
            .ExcludeFromDescription();
    }
}
