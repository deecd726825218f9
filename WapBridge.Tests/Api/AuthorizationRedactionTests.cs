using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>
/// A mangled Authorization header usually still carries the secret or the admin token (issue 13 item 6): neither the
/// error answer nor any log line may repeat it.
/// </summary>
public sealed class AuthorizationRedactionTests
{
    private const string GetAccount = "/api/method/wap_bridge.api.accounts.get_account";
    private const string ListCustomers = "/api/method/wap_bridge.api.admin.list_customers";

    [Fact]
    public async Task Malformed_headers_are_refused_without_repeating_their_credentials()
    {
        await using var app = new CapturingApp(kestrel: true);
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        var (key, secret, admin) = (customer.ApiKey, customer.ApiSecret, WapBridgeApp.AdminToken);

        string[] headers =
        [
            $"{key}:{secret}",
            $"token\t{key}:{secret}",
            $"token:{key}:{secret}",
            $"token,{key}:{secret}",
            $"{secret}",
            $"{secret} {key}",
            $"token {key}{secret}",
            $"token {secret}:{key}",
            $"Basic {key}:{secret}",
            $"Digest {key}:{secret}",
            $"Bearer\t{admin}",
            $"{admin}",
            $"Token:{admin}",
            $"token {admin}",
            $"Bearer {admin}x",
            $"Bearer:{admin}",
        ];
        var bodies = new List<string>();
        foreach (var header in headers)
        {
            using var client = new HttpClient { BaseAddress = app.ServerAddress };
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", header);
            foreach (var path in new[] { GetAccount, ListCustomers })
            {
                var answer = await client.SendRawAsync(HttpMethod.Post, path);
                Assert.True(answer.Status is 400 or 401 or 429, $"{header.Replace(secret, "<secret>").Replace(admin, "<admin token>")}: {answer.Status}");
                Assert.Equal("Authorization", answer.ErrorField);
                bodies.Add(await answer.Response.Content.ReadAsStringAsync());
            }
        }

        var answers = string.Join("\n", bodies);
        var log = app.Logs.AllText;
        Assert.Contains("Malformed Authorization header", answers);
        Assert.Contains("'Digest' is not supported", answers);
        foreach (var credential in new[] { secret, admin })
        {
            // Any 12 characters in a row would already give part of it away.
            for (var i = 0; i + 12 <= credential.Length; i++)
            {
                var piece = credential.Substring(i, 12);
                Assert.DoesNotContain(piece, answers);
                Assert.DoesNotContain(piece, log);
            }
        }
    }
}
