using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WapBridge.Core.Accounts;
using WapBridge.Core.Telemetry;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Telemetry;

/// <summary>
/// A gateway with an Admin and an Owner who signed in through the dashboard (cookies kept by their clients), and an
/// API key of each: the callers <c>/metrics</c> must tell apart.
/// </summary>
public class MetricsAccessApp(string provider) : WapBridgeApp(provider, new Dictionary<string, string?> { ["WapBridge:Accounts:AllowRegistration"] = "true" })
{
    public HttpClient AdminSession { get; private set; } = null!;
    public HttpClient OwnerSession { get; private set; } = null!;
    public string AdminKey { get; private set; } = null!;
    public string OwnerKey { get; private set; } = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        if (!Available)
            return;
        // The first registration of a server without customers is its Admin; later ones are Owners of their own customer.
        AdminSession = AccountForms.CreateBrowserClient(this, kestrel: false);
        Assert.Equal(302, (await AccountForms.RegisterAsync(AdminSession, "operator@example.com")).Status);
        OwnerSession = AccountForms.CreateBrowserClient(this, kestrel: false);
        Assert.Equal(302, (await AccountForms.RegisterAsync(OwnerSession, "owner@example.com")).Status);

        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        var keys = scope.ServiceProvider.GetRequiredService<ApiKeyService>();
        var admin = (await users.FindByEmailAsync("operator@example.com"))!;
        var owner = (await users.FindByEmailAsync("owner@example.com"))!;
        Assert.True(await users.IsInRoleAsync(admin, Roles.Admin));
        Assert.False(await users.IsInRoleAsync(owner, Roles.Admin));
        AdminKey = (await keys.CreateAsync(admin.CustomerId, "prometheus", admin.Id, isAdmin: true)).AuthorizationHeader;
        OwnerKey = (await keys.CreateAsync(owner.CustomerId, "owner's key", owner.Id, isAdmin: false)).AuthorizationHeader;
    }

    public override async ValueTask DisposeAsync()
    {
        AdminSession?.Dispose();
        OwnerSession?.Dispose();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteMetricsAccessApp() : MetricsAccessApp("sqlite");

public sealed class PostgresMetricsAccessApp() : MetricsAccessApp("postgres");

/// <summary>
/// Issue 21: <c>/metrics</c> is open to an Admin's session or API key and to the admin token, closed to everyone else
/// with the contract's JSON errors (a scraper is not redirected to the login page), and gone when metrics are off.
/// </summary>
public abstract class MetricsAccessTests(MetricsAccessApp app)
{
    private static async Task<ApiAnswer> ScrapeAsync(HttpClient client) =>
        await client.SendRawAsync(HttpMethod.Get, "/metrics");

    private static void AssertScrape(ApiAnswer answer)
    {
        Assert.True(answer.Status == 200, $"expected 200, got {answer.Status}: {answer.Body?.ToJsonString()}");
        Assert.Equal("text/plain", answer.Response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task AssertErrorAsync(ApiAnswer answer, int status, string excType, string code)
    {
        Assert.True(answer.Status == status, $"expected {status}, got {answer.Status} (Location {answer.Response.Headers.Location}): "
            + await answer.Response.Content.ReadAsStringAsync());
        Assert.Null(answer.Response.Headers.Location);
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(excType, answer.ExcType);
        Assert.Equal(code, answer.ErrorCode);
        Assert.StartsWith($"wap_bridge.exceptions.{excType}: ", answer.Body!["exception"]!.GetValue<string>());
        Assert.NotNull(answer.Body!["_server_messages"]);
    }

    [Fact]
    public async Task An_Admins_session_scrapes_metrics()
    {
        app.SkipIfUnavailable();
        var answer = await ScrapeAsync(app.AdminSession);
        AssertScrape(answer);
        // Metric families, not a dashboard page that happens to answer 200.
        Assert.NotEmpty(PrometheusText.Parse(await answer.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Types);
    }

    [Fact]
    public async Task An_Admins_api_key_scrapes_metrics()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient(app.AdminKey);
        AssertScrape(await ScrapeAsync(client));
    }

    [Fact]
    public async Task The_admin_token_scrapes_metrics()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        AssertScrape(await ScrapeAsync(client));
    }

    [Fact]
    public async Task Without_credentials_the_answer_is_a_401_error_not_a_redirect_to_the_login_page()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var answer = await ScrapeAsync(client);
        await AssertErrorAsync(answer, 401, "AuthenticationError", "missing_credentials");
        Assert.Equal("Authorization", answer.ErrorField);
        Assert.Contains("WAPBRIDGE_ADMIN_TOKEN", answer.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal("Bearer", answer.Response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_wrong_admin_token_is_a_401_error()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken[..^4] + "0000");
        await AssertErrorAsync(await ScrapeAsync(client), 401, "AuthenticationError", "invalid_credentials");
    }

    [Fact]
    public async Task An_Owners_session_is_refused_with_a_403_error_not_sent_to_the_access_denied_page()
    {
        app.SkipIfUnavailable();
        // The session is real: the same cookies open the Owner's dashboard.
        using (var home = await app.OwnerSession.GetAsync("/", TestContext.Current.CancellationToken))
            Assert.Equal(200, (int)home.StatusCode);

        var answer = await ScrapeAsync(app.OwnerSession);

        await AssertErrorAsync(answer, 403, "PermissionError", "not_permitted");
        Assert.Contains("Admin", answer.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_Owners_api_key_is_refused_with_a_403_error()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient(app.OwnerKey);
        await AssertErrorAsync(await ScrapeAsync(client), 403, "PermissionError", "not_permitted");
    }

    [Fact]
    public async Task A_malformed_authorization_header_is_a_400_error_even_with_an_Admins_session()
    {
        app.SkipIfUnavailable();
        // A header is judged alone: the session beside it does not turn a broken scrape configuration into a success.
        var answer = await app.AdminSession.SendRawAsync(HttpMethod.Get, "/metrics", headers: new Dictionary<string, string> { ["Authorization"] = "Digest" });
        await AssertErrorAsync(answer, 400, "InvalidAuthorizationHeader", "malformed_authorization");
    }
}

public sealed class SqliteMetricsAccessTests(SqliteMetricsAccessApp app) : MetricsAccessTests(app), IClassFixture<SqliteMetricsAccessApp>;

public sealed class PostgresMetricsAccessTests(PostgresMetricsAccessApp app) : MetricsAccessTests(app), IClassFixture<PostgresMetricsAccessApp>;

/// <summary><c>WAPBRIDGE_Telemetry__Metrics=false</c>: no endpoint (404 for everyone, the admin token too) and no gauge reads.</summary>
public sealed class MetricsOffTests
{
    [Fact]
    public async Task With_metrics_off_the_endpoint_answers_404_and_no_gauge_is_read()
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:Telemetry:Metrics"] = "false" });
        await app.InitializeAsync();
        using var client = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);

        var answer = await client.SendRawAsync(HttpMethod.Get, "/metrics");

        Assert.Equal(404, answer.Status);
        Assert.Equal("DoesNotExistError", answer.ExcType);
        Assert.Equal("metrics_disabled", answer.ErrorCode);
        Assert.Contains("WAPBRIDGE_Telemetry__Metrics", answer.Body!["error"]!["message"]!.GetValue<string>());
        using var anonymous = app.CreateApiClient();
        Assert.Equal(404, (await anonymous.SendRawAsync(HttpMethod.Get, "/metrics")).Status);
        Assert.Null(app.Services.GetService<DatabaseGauges>());
        Assert.DoesNotContain(app.Services.GetServices<IHostedService>(), s => s is DatabaseGauges);
    }
}
