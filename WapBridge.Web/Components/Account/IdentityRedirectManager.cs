using Microsoft.AspNetCore.Components;

namespace WapBridge.Web.Components.Account;

/// <summary>Redirects from static-SSR account pages, refusing to leave the site (no open redirects).</summary>
internal sealed class IdentityRedirectManager(NavigationManager navigationManager)
{
    public const string StatusCookieName = "WapBridge.StatusMessage";

    private static readonly CookieBuilder StatusCookieBuilder = new()
    {
        SameSite = SameSiteMode.Strict,
        HttpOnly = true,
        IsEssential = true,
        MaxAge = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// Navigates to <paramref name="uri"/> when it stays on this site, else to the home page; with
    /// BlazorDisableThrowNavigationException the caller must return afterwards.
    /// </summary>
    public void RedirectTo(string? uri)
    {
        uri ??= "";
        if (!IsSafeRelative(uri))
            uri = uri.StartsWith(navigationManager.BaseUri, StringComparison.OrdinalIgnoreCase) ? navigationManager.ToBaseRelativePath(uri) : "";
        navigationManager.NavigateTo(uri);
    }

    /// <summary>
    /// A path on this site (<c>/settings</c>). Browsers drop tabs and line breaks from URLs and read a backslash as a
    /// slash, so <c>/\t/evil.example</c> and <c>/\\evil.example</c> would leave the site: any of those characters refuses it.
    /// </summary>
    public static bool IsLocalPath(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || url[1] != '/') && !url.Any(c => c == '\\' || char.IsControl(c) || char.IsWhiteSpace(c));

    /// <summary>A local path, or a path relative to the base (<c>Account/Lockout</c>) without a scheme.</summary>
    private static bool IsSafeRelative(string uri) =>
        IsLocalPath(uri) || (uri.Length > 0 && uri[0] != '/' && Uri.IsWellFormedUriString(uri, UriKind.Relative) && !uri.Split('/', 2)[0].Contains(':')
            && !uri.Any(c => c == '\\' || char.IsControl(c) || char.IsWhiteSpace(c)));

    public void RedirectTo(string uri, Dictionary<string, object?> queryParameters)
    {
        var withoutQuery = navigationManager.ToAbsoluteUri(uri).GetLeftPart(UriPartial.Path);
        RedirectTo(navigationManager.GetUriWithQueryParameters(withoutQuery, queryParameters));
    }

    public void RedirectToWithStatus(string uri, string message, HttpContext context)
    {
        context.Response.Cookies.Append(StatusCookieName, message, StatusCookieBuilder.Build(context));
        RedirectTo(uri);
    }
}
