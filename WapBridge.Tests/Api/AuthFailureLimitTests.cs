using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>Guessing is slowed per client address, never a valid key (issue 13 item 11).</summary>
public sealed class AuthFailureLimitTests
{
    private const string GetAccount = "/api/method/wap_bridge.api.accounts.get_account";

    private static Dictionary<string, string> From(string address) => new() { ["X-Forwarded-For"] = address };

    [Fact]
    public async Task Failures_past_the_limit_answer_429_per_address_while_valid_keys_from_there_still_work()
    {
        // Behind a listed proxy (loopback here), each client is told apart by X-Forwarded-For.
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Api:AuthFailures:Limit"] = "3",
            ["WapBridge:Api:AuthFailures:Window"] = "00:10:00",
            ["WapBridge:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        }, kestrel: true);
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var guesser = app.CreateApiClient($"token {customer.ApiKey}:{new string('0', 40)}");

        for (var i = 0; i < 3; i++)
            Assert.Equal(401, (await guesser.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.7"))).Status);
        var limited = await guesser.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.7"));
        Assert.Equal(429, limited.Status);
        Assert.Equal("TooManyRequestsError", limited.ExcType);
        Assert.Equal("too_many_failed_authentications", limited.ErrorCode);
        var retryAfter = int.Parse(limited.Response.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 600);
        // A malformed header from there is a failure too, and limited as well.
        using var mangled = app.CreateApiClient("token onlykey");
        Assert.Equal(429, (await mangled.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.7"))).Status);

        // ERPNext behind the same proxy address, with a valid key: never limited.
        using var erpnext = app.CreateApiClient(customer.TokenHeader);
        for (var i = 0; i < 5; i++)
            (await erpnext.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.7"))).EnsureOk();
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        (await admin.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.admin.list_customers", headers: From("203.0.113.7"))).EnsureOk();

        // Another address has its own count.
        Assert.Equal(401, (await guesser.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("198.51.100.9"))).Status);
    }

    [Fact]
    public async Task Forwarded_addresses_from_an_unlisted_sender_are_ignored()
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Api:AuthFailures:Limit"] = "2",
            ["WapBridge:Api:AuthFailures:Window"] = "00:10:00",
        }, kestrel: true);
        await app.InitializeAsync();
        using var guesser = app.CreateApiClient($"token 0123456789abcde:{new string('0', 40)}");

        // Without a listed proxy, rotating X-Forwarded-For does not escape the count of the real address.
        Assert.Equal(401, (await guesser.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.1"))).Status);
        Assert.Equal(401, (await guesser.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.2"))).Status);
        Assert.Equal(429, (await guesser.SendRawAsync(HttpMethod.Post, GetAccount, headers: From("203.0.113.3"))).Status);
    }

    [Fact]
    public async Task An_admin_token_shorter_than_32_characters_refuses_the_start()
    {
        const string shortToken = "only-thirty-one-characters-long";
        Assert.Equal(31, shortToken.Length);
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:AdminToken"] = shortToken });

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await app.InitializeAsync());

        var messages = string.Join("\n", Flatten(error).Select(e => e.Message));
        Assert.Contains("WAPBRIDGE_ADMIN_TOKEN", messages);
        Assert.Contains("at least 32", messages);
        Assert.DoesNotContain(shortToken, messages);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("::1", "::1")]
    public void Clients_are_counted_per_address_and_IPv6_per_64_prefix(string address, string counted) =>
        Assert.Equal(counted, WapBridge.Web.Api.AuthFailureLimiter.ClientKey(System.Net.IPAddress.Parse(address)));

    internal static IEnumerable<Exception> Flatten(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                    yield return inner;
        }
    }
}
