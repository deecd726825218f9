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
