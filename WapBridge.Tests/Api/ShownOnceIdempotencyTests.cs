using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>
/// Secrets shown once never sit in the idempotency records; a retry with the same Idempotency-Key answers them masked,
/// with a note (contract §1, issue 13 item 9).
/// </summary>
public abstract class ShownOnceIdempotencyTests(WapBridgeApp app)
{
    private static Dictionary<string, string> Key() => new() { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

    private async Task<List<string>> StoredAnswersAsync()
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.IdempotencyRecords.AsNoTracking().Select(r => r.ResponseBody ?? "").ToListAsync();
    }

    private static void AssertReplayNote(ApiAnswer replay)
    {
        Assert.True(replay.Response.Headers.Contains("Idempotent-Replayed"));
        var messages = JsonNode.Parse(replay.Body!["_server_messages"]!.GetValue<string>())!.AsArray();
        var note = JsonNode.Parse(Assert.Single(messages)!.GetValue<string>())!["message"]!.GetValue<string>();
        Assert.Contains("shown only once", note);
    }

    [Fact]
    public async Task A_new_api_secret_is_not_stored_and_a_retry_answers_it_masked()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var headers = Key();
        var body = $$"""{"customer":"{{customer.Code}}","label":"erpnext"}""";
        const string method = "/api/method/wap_bridge.api.admin.create_api_key";

        var first = (await admin.SendRawAsync(HttpMethod.Post, method, body, "application/json", headers)).EnsureOk();
        var retry = (await admin.SendRawAsync(HttpMethod.Post, method, body, "application/json", headers)).EnsureOk();

        var secret = first.Message!["api_secret"]!.GetValue<string>();
        Assert.Null(first.Body!["_server_messages"]);
        Assert.Equal(first.Message!["api_key"]!.GetValue<string>(), retry.Message!["api_key"]!.GetValue<string>());
        Assert.Equal("••••••••" + secret[^4..], retry.Message!["api_secret"]!.GetValue<string>());
        Assert.DoesNotContain(secret, retry.Body!.ToJsonString());
        Assert.EndsWith(":••••••••" + secret[^4..], retry.Message!["authorization"]!.GetValue<string>());
        AssertReplayNote(retry);
        Assert.All(await StoredAnswersAsync(), stored => Assert.DoesNotContain(secret, stored));

        // The secret of the first answer is the key's: the retry made no second key.
        using var client = app.CreateApiClient($"token {first.Message!["api_key"]!.GetValue<string>()}:{secret}");
        (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
    }

    [Fact]
    public async Task A_generated_webhook_secret_is_not_stored_and_a_retry_answers_it_masked()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var headers = Key();
        const string body = """{"url":"https://hooks.example.invalid/wapbridge","generate_secret":true}""";
        const string method = "/api/method/wap_bridge.api.settings.set_webhook";

        var first = (await client.SendRawAsync(HttpMethod.Post, method, body, "application/json", headers)).EnsureOk();
        var retry = (await client.SendRawAsync(HttpMethod.Post, method, body, "application/json", headers)).EnsureOk();

        var secret = first.Message!["secret"]!.GetValue<string>();
        Assert.StartsWith("whsec_", secret);
        Assert.Equal("••••••••" + secret[^4..], retry.Message!["secret"]!.GetValue<string>());
        Assert.Equal(first.Message!["secret_masked"]!.GetValue<string>(), retry.Message!["secret_masked"]!.GetValue<string>());
        Assert.DoesNotContain(secret, retry.Body!.ToJsonString());
        AssertReplayNote(retry);
        Assert.All(await StoredAnswersAsync(), stored => Assert.DoesNotContain(secret, stored));
    }

    [Fact]
    public async Task Answers_without_a_shown_once_secret_are_replayed_unchanged()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var headers = Key();
        const string body = """{"url":"https://hooks.example.invalid/typed","secret":"a-typed-secret-of-the-customer"}""";
        const string method = "/api/method/wap_bridge.api.settings.set_webhook";

        var first = (await client.SendRawAsync(HttpMethod.Post, method, body, "application/json", headers)).EnsureOk();
        var retry = (await client.SendRawAsync(HttpMethod.Post, method, body, "application/json", headers)).EnsureOk();

        Assert.Equal(first.Body!.ToJsonString(), retry.Body!.ToJsonString());
        Assert.Null(retry.Body!["_server_messages"]);
    }
}

public sealed class SqliteShownOnceIdempotencyTests(SqliteApp app) : ShownOnceIdempotencyTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresShownOnceIdempotencyTests(PostgresApp app) : ShownOnceIdempotencyTests(app), IClassFixture<PostgresApp>;
