using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// Issue 13 item 12: logout without an antiforgery token and off-site ReturnUrl values answered 500; they must be
/// refused (400) or redirect, and never leave the site.
/// </summary>
public sealed partial class AccountRedirectTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    public static TheoryData<string> OffSite => new()
    {
        "//evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "/\r\n/evil.example",
        " //evil.example",
        "javascript:alert(1)",
    };

    [Fact]
    public async Task Logout_without_an_antiforgery_token_is_refused_not_a_500()
    {
        using var client = app.CreateApiClient();

        var response = await client.PostAsync("/Account/Logout",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["returnUrl"] = "/" }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(OffSite))]
    public async Task Logout_never_redirects_off_site(string returnUrl)
    {
        using var client = app.CreateApiClient();
        var token = await AntiforgeryTokenAsync(client, "/Account/Login");

        var response = await client.PostAsync("/Account/Logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["returnUrl"] = returnUrl,
        }), TestContext.Current.CancellationToken);

        AssertStaysOnSite(response);
    }

    [Theory]
    [MemberData(nameof(OffSite))]
    public async Task Login_never_redirects_off_site(string returnUrl)
    {
        var (email, password) = await UserAsync();
        using var client = app.CreateApiClient();
        var page = "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);
        var token = await AntiforgeryTokenAsync(client, page);

        var response = await client.PostAsync(page, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }), TestContext.Current.CancellationToken);

        AssertStaysOnSite(response);
    }

    [Fact]
    public async Task Login_still_returns_to_a_local_page()
    {
        var (email, password) = await UserAsync();
        using var client = app.CreateApiClient();
        var page = "/Account/Login?ReturnUrl=" + Uri.EscapeDataString("/settings?tab=keys");
        var token = await AntiforgeryTokenAsync(client, page);

        var response = await client.PostAsync(page, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/settings?tab=keys", new Uri(new Uri("http://localhost/"), response.Headers.Location!).PathAndQuery);
    }

    private static void AssertStaysOnSite(HttpResponseMessage response)
    {
        Assert.True((int)response.StatusCode is 302 or 303, $"expected a redirect, got {(int)response.StatusCode}");
        var location = response.Headers.Location!.OriginalString;
        Assert.DoesNotMatch(@"[\x00-\x20\\]", location);
        Assert.Equal("localhost", new Uri(new Uri("http://localhost/"), location).Host);
        Assert.False(location.StartsWith("//", StringComparison.Ordinal), location);
    }

    private async Task<(string Email, string Password)> UserAsync()
    {
        var customer = await app.CreateCustomerAsync();
        using var scope = app.Services.CreateScope();
        var customerId = (await scope.ServiceProvider.GetRequiredService<CustomerService>().FindByCodeAsync(customer.Code, TestContext.Current.CancellationToken))!.Id;
        var email = $"{Guid.NewGuid():N}@example.com";
        const string password = "Correct-horse-battery-9";
        var result = await scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>()
            .CreateAsync(new WapBridgeUser { UserName = email, Email = email, CustomerId = customerId }, password);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
        return (email, password);
    }

    private static async Task<string> AntiforgeryTokenAsync(HttpClient client, string page)
    {
        var html = await client.GetStringAsync(page, TestContext.Current.CancellationToken);
        return TokenField().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("no antiforgery token on " + page);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
