using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>A host with tiny limits, so that rate limiting and the body limit can be hit on purpose.</summary>
public sealed class TightLimitsApp() : WapBridgeApp(settings: new Dictionary<string, string?>
{
    ["WapBridge:Api:RateLimit:PermitsPerSecond"] = "1",
    ["WapBridge:Api:RateLimit:Burst"] = "3",
    ["WapBridge:Api:MaxRequestBodyBytes"] = "2048",
    ["WapBridge:Api:MaxArgumentBodyBytes"] = "2048",
});

public sealed class LimitsTests(TightLimitsApp app) : IClassFixture<TightLimitsApp>
{
    [Fact]
    public async Task Exhausting_a_keys_bucket_answers_429_with_retry_after()
    {
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);

        var statuses = new List<int>();
        ApiAnswer? limited = null;
        for (var i = 0; i < 6; i++)
        {
            var answer = await client.CallAsync("wap_bridge.api.accounts.get_account");
            statuses.Add(answer.Status);
            if (answer.Status == 429) limited ??= answer;
        }

        Assert.Equal(200, statuses[0]);
        Assert.NotNull(limited);
        Assert.Equal("TooManyRequestsError", limited.ExcType);
        Assert.True(int.Parse(limited.Response.Headers.GetValues("Retry-After").Single()) >= 1);
    }

    [Fact]
    public async Task Each_key_has_its_own_bucket()
    {
        var noisy = await app.CreateCustomerAsync();
        var quiet = await app.CreateCustomerAsync();
        using var noisyClient = app.CreateApiClient(noisy.TokenHeader);
        for (var i = 0; i < 6; i++)
            await noisyClient.CallAsync("wap_bridge.api.accounts.get_account");

        using var quietClient = app.CreateApiClient(quiet.TokenHeader);
        (await quietClient.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
    }

    [Fact]
    public async Task Body_over_the_limit_is_413_json()
    {
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var big = "{\"padding\":\"" + new string('x', 4096) + "\"}";

        var answer = await client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.accounts.get_account", big, "application/json");

        Assert.Equal(413, answer.Status);
        Assert.Equal("body_too_large", answer.ErrorCode);
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_413_json()
    {
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"padding\":\"" + new string('x', 4096) + "\"}")));
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/method/wap_bridge.api.accounts.get_account") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var answer = await client.SendForAnswerAsync(request);

        Assert.Equal(413, answer.Status);
    }
}
