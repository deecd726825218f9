using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Accounts;

/// <summary>
/// Links WapBridge logs point at its configured public address, whatever Host a request names; forwarded headers count
/// only from listed proxies; cookies are Secure on HTTPS (issue 13 item 10).
/// </summary>
public sealed class PublicUrlTests
{
    private const string Email = "owner@example.com";
    private const string PublicBase = "https://wapbridge.example.com:8443";

    private static async Task<string> RequestResetLinkAsync(CapturingApp app, IDictionary<string, string> headers)
    {
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: true);
        Assert.Equal(302, (await AccountForms.RegisterAsync(browser, Email)).Status);

        using var visitor = AccountForms.CreateBrowserClient(app, kestrel: true);
        var answer = await AccountForms.SubmitAsync(visitor, "/Account/ForgotPassword", new Dictionary<string, string> { ["Input.Email"] = Email }, headers);
        Assert.Equal(302, answer.Status);
        return Assert.Single(app.Logs.Entries, e => e.Values.ContainsKey("Link") && e.Message.StartsWith("Password reset link", StringComparison.Ordinal))
            .Values["Link"]!;
    }

    [Fact]
    public async Task A_reset_link_is_built_on_the_configured_public_base_not_the_Host_header()
    {
        await using var app = new CapturingApp(settings: new Dictionary<string, string?> { ["WapBridge:PublicBaseUrl"] = PublicBase }, kestrel: true);
        await app.InitializeAsync();

        var link = await RequestResetLinkAsync(app, new Dictionary<string, string> { ["Host"] = "evil.example" });

        Assert.StartsWith(PublicBase + "/Account/ResetPassword?code=", link);
        Assert.DoesNotContain("evil.example", link);

        // The link works: its code resets the password on this server.
        using var owner = AccountForms.CreateBrowserClient(app, kestrel: true);
        var reset = await AccountForms.SubmitAsync(owner, new Uri(link).PathAndQuery, new Dictionary<string, string>
        {
            ["Input.Email"] = Email,
            ["Input.Password"] = "Brand-New-Pass-7",
            ["Input.ConfirmPassword"] = "Brand-New-Pass-7",
        });
        Assert.Equal(302, reset.Status);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        Assert.True(await users.CheckPasswordAsync((await users.FindByEmailAsync(Email))!, "Brand-New-Pass-7"));
    }

    [Fact]
    public async Task Without_a_configured_base_the_link_uses_the_listen_address_even_behind_a_listed_proxy()
    {
        await using var app = new CapturingApp(settings: new Dictionary<string, string?> { ["WapBridge:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" },
            kestrel: true);
        await app.InitializeAsync();

        var link = await RequestResetLinkAsync(app, new Dictionary<string, string>
        {
            ["Host"] = "evil.example",
            ["X-Forwarded-Host"] = "evil.example",
            ["X-Forwarded-Proto"] = "https",
        });

        Assert.StartsWith(app.ServerAddress.ToString().TrimEnd('/') + "/Account/ResetPassword?code=", link);
    }

    [Fact]
    public async Task Cookies_are_Secure_when_a_listed_proxy_says_the_request_was_https()
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:ForwardedHeaders:KnownProxies"] = "10.9.9.9, 127.0.0.1" },
            kestrel: true);
        await app.InitializeAsync();
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: true);

        var registered = await AccountForms.RegisterAsync(browser, Email, headers: new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });

        Assert.Equal(302, registered.Status);
        var login = Assert.Single(registered.SetCookies, c => c.StartsWith(".AspNetCore.Identity.Application=", StringComparison.Ordinal));
        Assert.Contains("secure", login, StringComparison.OrdinalIgnoreCase);
        using var page = new HttpRequestMessage(HttpMethod.Get, "/Account/Login");
        page.Headers.Add("X-Forwarded-Proto", "https");
        using var fresh = AccountForms.CreateBrowserClient(app, kestrel: true);
        var antiforgery = Assert.Single((await fresh.SendAsync(page)).Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
        Assert.Contains("secure", antiforgery, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("WapBridge:PublicBaseUrl", "wapbridge.example.com", "WAPBRIDGE_PublicBaseUrl")]
    [InlineData("WapBridge:ForwardedHeaders:KnownProxies", "10.0.0.5,proxy.example", "WAPBRIDGE_ForwardedHeaders__KnownProxies")]
    public async Task A_malformed_setting_refuses_the_start_naming_its_variable(string key, string value, string variable)
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await app.InitializeAsync());

        Assert.Contains(variable, string.Join("\n", Api.AuthFailureLimitTests.Flatten(error).Select(e => e.Message)));
    }

    [Fact]
    public async Task An_unlisted_sender_cannot_claim_https_and_plain_http_cookies_are_not_Secure()
    {
        await using var app = new WapBridgeApp(kestrel: true);
        await app.InitializeAsync();
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: true);

        var registered = await AccountForms.RegisterAsync(browser, Email, headers: new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });

        Assert.Equal(302, registered.Status);
        var login = Assert.Single(registered.SetCookies, c => c.StartsWith(".AspNetCore.Identity.Application=", StringComparison.Ordinal));
        Assert.DoesNotContain("secure", login, StringComparison.OrdinalIgnoreCase);
    }
}
