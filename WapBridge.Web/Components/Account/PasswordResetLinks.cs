using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace WapBridge.Web.Components.Account;

/// <summary>The link that opens the reset-password page with a reset token and the account's e-mail filled in.</summary>
public static class PasswordResetLinks
{
    /// <param name="siteBaseUrl">The configured public address, never the request's Host header: whoever asks for the reset picks that.</param>
    public static string Build(string siteBaseUrl, string token, string email) =>
        siteBaseUrl.TrimEnd('/') + "/Account/ResetPassword?code=" + Uri.EscapeDataString(WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token)))
        + "&email=" + Uri.EscapeDataString(email);
}
