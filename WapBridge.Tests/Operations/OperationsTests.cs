using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Web.Api.Frappe;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Operations;

public abstract class OperationsTests(WapBridgeApp app)
{
    [Fact]
    public async Task Health_and_readiness_answer()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var health = await client.GetAsync("/healthz", TestContext.Current.CancellationToken);
        var ready = await client.GetAsync("/readyz", TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)health.StatusCode);
        Assert.Equal(200, (int)ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("healthy", body["checks"]!["database"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenApi_describes_every_api_method_with_its_arguments()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        var paths = document["paths"]!.AsObject();

        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Where(p => p.StartsWith(FrappeMethods.MethodPrefix) && !p.Contains('{'))
            .Distinct().ToList();
        Assert.NotEmpty(mapped);
        foreach (var path in mapped)
            Assert.True(paths.ContainsKey(path), $"{path} is missing from the OpenAPI document");

        var createCustomer = paths["/api/method/wap_bridge.api.admin.create_customer"]!["post"]!;
        Assert.NotNull(createCustomer["requestBody"]!["content"]!["application/json"]);
        Assert.Equal("Create a customer account", createCustomer["summary"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenApi_lists_real_verbs_required_arguments_only_the_token_scheme_and_examples_that_work()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();
        using var anonymous = app.CreateApiClient();
        var document = JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        var paths = document["paths"]!.AsObject();
        JsonNode Operation(string method, string verb) => paths["/api/method/wap_bridge.api." + method]![verb]!;
        static List<string> Required(JsonNode operation) =>
            operation["requestBody"]!["content"]!["application/json"]!["schema"]!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [];

        // One verb where the API takes one: state-changing methods are POST only; read-only ones GET (query) and POST.
        Assert.Equal(["post"], paths["/api/method/wap_bridge.api.whatsapp.send_api_message"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["post"], paths["/api/method/wap_bridge.api.campaigns.create_and_start_campaign"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["get", "post"], paths["/api/method/wap_bridge.api.whatsapp.message_status"]!.AsObject().Select(p => p.Key).Order());
        var statusQuery = Assert.Single(Operation("whatsapp.message_status", "get")["parameters"]!.AsArray())!;
        Assert.Equal(("id", "query", true), (statusQuery["name"]!.GetValue<string>(), statusQuery["in"]!.GetValue<string>(), statusQuery["required"]!.GetValue<bool>()));
        Assert.Null(Operation("whatsapp.message_status", "get")["requestBody"]);

        // Optional arguments are optional.
        Assert.Equal(["to_number"], Required(Operation("whatsapp.send_api_message", "post")));
        Assert.Equal(["instance_id", "recipients"], Required(Operation("campaigns.create_and_start_campaign", "post")).Order());
        Assert.Empty(Required(Operation("whatsapp.list_messages", "post")));

        // The token scheme of contract §1, on every method.
        var token = document["components"]!["securitySchemes"]!["token"]!;
        Assert.Equal(("apiKey", "header", "Authorization"), (token["type"]!.GetValue<string>(), token["in"]!.GetValue<string>(), token["name"]!.GetValue<string>()));
        foreach (var (path, operations) in paths)
            foreach (var (verb, operation) in operations!.AsObject())
            {
                Assert.Contains(operation!["security"]!.AsArray(), r => r!["token"] is not null);
                // Realistic examples: only the method's own arguments, never a null.
                if (operation["requestBody"]?["content"]?["application/json"] is { } json && json["example"] is JsonObject example)
                {
                    var properties = json["schema"]!["properties"]!.AsObject();
                    Assert.All(example, p => Assert.True(properties.ContainsKey(p.Key), $"{verb} {path}: example argument {p.Key} is not an argument"));
                    Assert.DoesNotContain("null", example.ToJsonString());
                    Assert.All(Required(operation), r => Assert.True(example.ContainsKey(r), $"{verb} {path}: the example lacks {r}"));
                }
            }

        // "Test request" as the reference page sends it: the example, with the token header, works once the ids are the caller's.
        var example2 = Operation("whatsapp.send_api_message", "post")["requestBody"]!["content"]!["application/json"]!["example"]!.AsObject().DeepClone().AsObject();
        example2["instance_id"] = sender.InstanceId;
        var sent = (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.send_api_message", example2.ToJsonString(), "application/json",
            new Dictionary<string, string> { ["Authorization"] = sender.Customer.TokenHeader })).EnsureOk();
        Assert.Equal("255755123456", sent.Message!["to"]!.GetValue<string>());
        var id = sent.Message!["id"]!.GetValue<string>();
        using var tokenOnly = app.CreateApiClient(sender.Customer.TokenHeader);
        Assert.Equal(id, (await tokenOnly.SendRawAsync(HttpMethod.Get, "/api/method/wap_bridge.api.whatsapp.message_status?id=" + Uri.EscapeDataString(id))).EnsureOk().Message!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Api_reference_page_is_served()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var response = await client.GetAsync("/api-reference/", TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Hangfire_dashboard_needs_a_logged_in_admin()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var anonymous = app.CreateApiClient();
        using var withKey = app.CreateApiClient(customer.TokenHeader);

        var response = await anonymous.GetAsync("/hangfire", TestContext.Current.CancellationToken);
        Assert.Equal(302, (int)response.StatusCode);
        Assert.Contains("/Account/Login", response.Headers.Location!.ToString());
        Assert.Equal(302, (int)(await withKey.GetAsync("/hangfire", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public void Maintenance_jobs_are_scheduled_in_hangfire()
    {
        app.SkipIfUnavailable();
        var storage = app.Services.GetRequiredService<JobStorage>();
        using var connection = storage.GetConnection();
        Assert.Contains(connection.GetRecurringJobs(), j => j.Id == "purge-idempotency-keys");
    }
}

public sealed class SqliteOperationsTests(SqliteApp app) : OperationsTests(app), IClassFixture<SqliteApp>;

public sealed class PostgresOperationsTests(PostgresApp app) : OperationsTests(app), IClassFixture<PostgresApp>;
