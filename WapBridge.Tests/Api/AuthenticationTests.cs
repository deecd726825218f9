using System.Net;
using System.Text;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

public abstract class AuthenticationTests(WapBridgeApp app)
{
    private const string GetAccount = "/api/method/wap_bridge.api.accounts.get_account";

    [Theory]
    [InlineData("token {0}:{1}")]
    [InlineData("TOKEN {0}:{1}")]
    [InlineData("Bearer {0}:{1}")]
    [InlineData("bearer {0}:{1}")]
    public async Task Token_and_bearer_schemes_authenticate(string format)
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(string.Format(format, customer.ApiKey, customer.ApiSecret));

        var answer = await client.SendRawAsync(HttpMethod.Get, GetAccount);

        answer.EnsureOk();
        Assert.Equal(customer.Code, answer.Message!["customer"]!.GetValue<string>());
        Assert.Equal(customer.ApiKey, answer.Message!["api_key"]!.GetValue<string>());
    }

    [Fact]
    public async Task Basic_scheme_authenticates()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{customer.ApiKey}:{customer.ApiSecret}"));
        using var client = app.CreateApiClient("Basic " + basic);

        (await client.SendRawAsync(HttpMethod.Post, GetAccount)).EnsureOk();
    }

    [Fact]
    public async Task Wrong_secret_is_401_AuthenticationError()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient($"token {customer.ApiKey}:{new string('0', 40)}");

        var answer = await client.SendRawAsync(HttpMethod.Post, GetAccount);

        Assert.Equal(401, answer.Status);
        Assert.Equal("AuthenticationError", answer.ExcType);
        Assert.Equal("invalid_credentials", answer.ErrorCode);
    }

    [Fact]
    public async Task Unknown_key_is_401()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient($"token 0123456789abcde:{new string('a', 40)}");
        Assert.Equal(401, (await client.SendRawAsync(HttpMethod.Post, GetAccount)).Status);
    }

    [Fact]
    public async Task Missing_header_is_401_with_json_whatever_accept_says()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var answer = await client.SendRawAsync(HttpMethod.Post, GetAccount, headers: new Dictionary<string, string> { ["Accept"] = "text/html" });

        Assert.Equal(401, answer.Status);
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("missing_credentials", answer.ErrorCode);
    }

    [Theory]
    [InlineData("token onlykey")]
    [InlineData("token :secret")]
    [InlineData("Basic !!!notbase64")]
    [InlineData("Digest abc")]
    [InlineData("token")]
    public async Task Malformed_header_is_400(string header)
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient(header);
        var answer = await client.SendRawAsync(HttpMethod.Post, GetAccount);

        Assert.Equal(400, answer.Status);
        Assert.Equal("malformed_authorization", answer.ErrorCode);
        Assert.Equal("Authorization", answer.ErrorField);
    }
}

public sealed class SqliteAuthenticationTests(SqliteApp app) : AuthenticationTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresAuthenticationTests(PostgresApp app) : AuthenticationTests(app), IClassFixture<PostgresApp>;
