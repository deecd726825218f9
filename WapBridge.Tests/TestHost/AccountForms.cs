using System.Net;
using System.Text.RegularExpressions;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// Fills in the dashboard's static account pages (register, forgot password, …) over plain HTTP as a browser without
/// script would: load the page, keep its cookies and hidden fields (antiforgery token, form name), post the form.
/// </summary>
public static partial class AccountForms
{
    /// <summary>A client that keeps cookies and does not follow redirects, so a test sees where a form sends it.</summary>
    public static HttpClient CreateBrowserClient(WapBridgeApp app, bool kestrel)
    {
        if (!kestrel)
            return app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var handler = new CookieJar { InnerHandler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false } };
        return new HttpClient(handler) { BaseAddress = app.ServerAddress };
    }

    /// <summary>
    /// Sends back every cookie it was given, Secure ones included: the browser of a user behind a TLS-terminating proxy
    /// speaks HTTPS to the proxy, while the test speaks plain HTTP to the server.
    /// </summary>
    private sealed class CookieJar : DelegatingHandler
    {
        private readonly Dictionary<string, string> _cookies = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (_cookies.Count > 0)
                request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", _cookies.Select(c => c.Key + "=" + c.Value)));
            var response = await base.SendAsync(request, cancellationToken);
            foreach (var cookie in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = cookie.Split(';')[0];
                var eq = pair.IndexOf('=');
                if (eq > 0)
                    _cookies[pair[..eq]] = pair[(eq + 1)..];
            }
            return response;
        }
    }

    /// <summary>
    /// Loads <paramref name="path"/>, then posts its form with its hidden fields and <paramref name="fields"/>;
    /// <paramref name="headers"/> go with both requests (Host, X-Forwarded-Proto, …).
    /// </summary>
    public static async Task<FormAnswer> SubmitAsync(HttpClient client, string path, IDictionary<string, string> fields,
        IDictionary<string, string>? headers = null)
    {
        using var get = WithHeaders(new HttpRequestMessage(HttpMethod.Get, path), headers);
        using var page = await client.SendAsync(get);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.IsSuccessStatusCode, $"GET {path}: {(int)page.StatusCode}");

        var form = new Dictionary<string, string>();
        foreach (Match hidden in HiddenInput().Matches(html))
            form[WebUtility.HtmlDecode(hidden.Groups["name"].Value)] = WebUtility.HtmlDecode(hidden.Groups["value"].Value);
        Assert.True(form.ContainsKey("__RequestVerificationToken"), $"no antiforgery token on {path}");
        foreach (var (name, value) in fields)
            form[name] = value;

        using var post = WithHeaders(new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) }, headers);
        using var answer = await client.SendAsync(post);
        return new FormAnswer((int)answer.StatusCode, answer.Headers.Location, await answer.Content.ReadAsStringAsync(),
            answer.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.ToList() : []);
    }

    public static Task<FormAnswer> RegisterAsync(HttpClient client, string email, string password = "Correct-Horse-42", string? setupToken = null,
        IDictionary<string, string>? headers = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Organisation"] = "Org of " + email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = password,
        };
        if (setupToken is not null)
            fields["Input.SetupToken"] = setupToken;
        return SubmitAsync(client, "/Account/Register", fields, headers);
    }

    private static HttpRequestMessage WithHeaders(HttpRequestMessage request, IDictionary<string, string>? headers)
    {
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
                request.Headers.Host = value;
            else
                request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\"")]
    private static partial Regex HiddenInput();
}

public sealed record FormAnswer(int Status, Uri? Location, string Html, IReadOnlyList<string> SetCookies);
