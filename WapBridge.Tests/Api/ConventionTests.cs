using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>Contract §1 conventions over real HTTP: argument binding, envelope, errors, verbs, aliases, idempotency.</summary>
public abstract class ConventionTests(WapBridgeApp app)
{
    private const string CreateCustomer = "/api/method/wap_bridge.api.admin.create_customer";
    private HttpClient Admin() => app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);

    private static string Email() => $"{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task Json_body_is_the_only_argument_source()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var email = Email();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer + "?name=FromQuery",
            $$"""{"email":"{{email}}"}""", "application/json");

        Assert.Equal(417, answer.Status);
        Assert.Equal("name", answer.ErrorField);
    }

    [Fact]
    public async Task Success_is_compact_message_envelope()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var email = Email();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, $$"""{"name":"Envelope Ltd","email":"{{email}}"}""", "application/json");

        answer.EnsureOk();
        var raw = await answer.Response.Content.ReadAsStringAsync();
        Assert.StartsWith("{\"message\":{\"customer\":\"CUST-", raw);
        Assert.DoesNotContain("\n", raw);
        Assert.Equal("Envelope Ltd", answer.Message!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Form_wins_over_query_string()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer + "?name=FromQuery&email=" + Email(),
            "name=FromForm", "application/x-www-form-urlencoded");

        answer.EnsureOk();
        Assert.Equal("FromForm", answer.Message!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Query_string_alone_is_enough()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer + "?name=Query+Only&email=" + Email());

        answer.EnsureOk();
        Assert.Equal("Query Only", answer.Message!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Form_body_labelled_json_is_read_as_form()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, "name=Mislabelled&email=" + Uri.EscapeDataString(Email()), "application/json");

        answer.EnsureOk();
        Assert.Equal("Mislabelled", answer.Message!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Broken_json_is_417_naming_the_body()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, "{\"name\": \"unterminated", "application/json");

        Assert.Equal(417, answer.Status);
        Assert.Equal("ValidationError", answer.ExcType);
        Assert.Equal("body", answer.ErrorField);
        Assert.Equal("invalid_json", answer.ErrorCode);
    }

    [Fact]
    public async Task Empty_body_means_no_arguments()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, "", "application/json");

        Assert.Equal(417, answer.Status);
        Assert.Equal("name", answer.ErrorField);
        Assert.Equal("missing_argument", answer.ErrorCode);
    }

    [Fact]
    public async Task Error_body_has_frappe_keys_and_structured_detail()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.CallAsync("wap_bridge.api.admin.create_customer", new { name = "Bad Mail", email = "not-an-email" });

        Assert.Equal(417, answer.Status);
        Assert.Equal("ValidationError", answer.ExcType);
        Assert.StartsWith("wap_bridge.exceptions.ValidationError: email", answer.Body!["exception"]!.GetValue<string>());
        var serverMessages = JsonNode.Parse(answer.Body!["_server_messages"]!.GetValue<string>())!.AsArray();
        var first = JsonNode.Parse(serverMessages[0]!.GetValue<string>())!;
        Assert.Equal("red", first["indicator"]!.GetValue<string>());
        Assert.Contains("email", first["message"]!.GetValue<string>());
        Assert.Equal("email", answer.ErrorField);
        Assert.Equal("invalid_email", answer.ErrorCode);
    }

    [Fact]
    public async Task Get_on_a_method_that_changes_state_is_403_not_permitted()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Get, CreateCustomer + "?name=X&email=" + Email());

        Assert.Equal(403, answer.Status);
        Assert.Equal("PermissionError", answer.ExcType);
        Assert.StartsWith("Not permitted", answer.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Read_only_methods_answer_get_and_post()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        (await admin.SendRawAsync(HttpMethod.Get, "/api/method/wap_bridge.api.admin.list_customers?limit=5")).EnsureOk();
        var post = (await admin.CallAsync("wap_bridge.api.admin.list_customers", new { limit = 5, offset = 0 })).EnsureOk();
        Assert.Equal(5, post.Message!["limit"]!.GetValue<int>());
        Assert.Equal(0, post.Message!["offset"]!.GetValue<int>());
        Assert.NotNull(post.Message!["data"]!.AsArray());
        Assert.True(post.Message!["total"]!.GetValue<int>() >= 0);
    }

    [Fact]
    public async Task List_limit_is_bounded()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.CallAsync("wap_bridge.api.admin.list_customers", new { limit = 501 });
        Assert.Equal(417, answer.Status);
        Assert.Equal("limit", answer.ErrorField);
    }

    [Fact]
    public async Task Wrongly_typed_argument_names_the_field()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.admin.list_customers", "{\"limit\": \"many\"}", "application/json");
        Assert.Equal(417, answer.Status);
        Assert.Equal("limit", answer.ErrorField);
        Assert.Contains("whole number", answer.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Versioned_alias_answers_the_same_method()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.SendRawAsync(HttpMethod.Post, "/api/v1/method/wap_bridge.api.admin.create_customer",
            $$"""{"name":"Alias","email":"{{Email()}}"}""", "application/json");
        answer.EnsureOk();
        Assert.Equal("Alias", answer.Message!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/method/wap_bridge.api.nothing.here")]
    [InlineData("/api/v1/method/wap_bridge.api.nothing.here")]
    [InlineData("/api/resource/Customer")]
    public async Task Unknown_method_is_404_json(string path)
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var answer = await client.SendForAnswerAsync(request);

        Assert.Equal(404, answer.Status);
        Assert.Equal("DoesNotExistError", answer.ExcType);
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Customer_key_cannot_call_admin_methods()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var answer = await client.CallAsync("wap_bridge.api.admin.create_customer", new { name = "Sneaky", email = Email() });

        Assert.Equal(403, answer.Status);
        Assert.Equal("PermissionError", answer.ExcType);
    }

    [Fact]
    public async Task Wrong_admin_token_is_401()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient("Bearer not-the-admin-token");
        var answer = await client.CallAsync("wap_bridge.api.admin.list_customers");
        Assert.Equal(401, answer.Status);
    }

    [Fact]
    public async Task Admin_bootstrap_creates_customer_and_a_working_key()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync("Bootstrap Co");
        Assert.Matches("^CUST-\\d{4,}$", customer.Code);
        Assert.Matches("^[0-9a-f]{15}$", customer.ApiKey);
        Assert.True(customer.ApiSecret.Length >= 32);
        Assert.True(customer.TokenHeader.Length < 140, "ERPNext stores the header in a 140-character field");

        using var client = app.CreateApiClient(customer.TokenHeader);
        var account = (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk();
        Assert.Equal(customer.Code, account.Message!["customer"]!.GetValue<string>());
        Assert.Equal("Bootstrap Co", account.Message!["name"]!.GetValue<string>());
        Assert.False(account.Message!["is_admin"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Create_api_key_for_unknown_customer_is_404()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var answer = await admin.CallAsync("wap_bridge.api.admin.create_api_key", new { customer = "CUST-9999" });
        Assert.Equal(404, answer.Status);
        Assert.Equal("customer", answer.ErrorField);
    }

    [Fact]
    public async Task Idempotency_key_replays_the_first_answer_without_a_second_side_effect()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var key = Guid.NewGuid().ToString();
        var body = $$"""{"name":"Once Only","email":"{{Email()}}"}""";
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key };

        var first = (await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, body, "application/json", headers)).EnsureOk();
        var before = (await admin.CallAsync("wap_bridge.api.admin.list_customers", new { limit = 1 })).Message!["total"]!.GetValue<int>();
        var second = (await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, body, "application/json", headers)).EnsureOk();
        var after = (await admin.CallAsync("wap_bridge.api.admin.list_customers", new { limit = 1 })).Message!["total"]!.GetValue<int>();

        Assert.Equal(first.Message!["customer"]!.GetValue<string>(), second.Message!["customer"]!.GetValue<string>());
        Assert.Equal(before, after);
        Assert.True(second.Response.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task Idempotency_key_reused_for_other_arguments_is_refused()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        (await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, $$"""{"name":"A","email":"{{Email()}}"}""", "application/json", headers)).EnsureOk();
        var reused = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, $$"""{"name":"B","email":"{{Email()}}"}""", "application/json", headers);

        Assert.Equal(417, reused.Status);
        Assert.Equal("Idempotency-Key", reused.ErrorField);
    }

    [Fact]
    public async Task Errors_are_replayed_too_so_a_retry_sees_the_same_answer()
    {
        app.SkipIfUnavailable();
        using var admin = Admin();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var first = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, "{\"name\":\"No Mail\"}", "application/json", headers);
        var second = await admin.SendRawAsync(HttpMethod.Post, CreateCustomer, "{\"name\":\"No Mail\"}", "application/json", headers);

        Assert.Equal(417, first.Status);
        Assert.Equal(417, second.Status);
        Assert.Equal(first.Body!.ToJsonString(), second.Body!.ToJsonString());
    }
}

public sealed class SqliteConventionTests(SqliteApp app) : ConventionTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresConventionTests(PostgresApp app) : ConventionTests(app), IClassFixture<PostgresApp>;
