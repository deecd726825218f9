using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// The real gateway on a real database file (or a fresh PostgreSQL database) in a temporary data folder.
/// With <c>kestrel: true</c> it listens on a loopback port, for browsers and raw HTTP clients.
/// </summary>
public class WapBridgeApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminToken = "test-admin-token-0123456789-abcdef-0123456789";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _kestrel;
    private PostgresDatabase? _postgres;

    public string Provider { get; }
    public string DataDir { get; }

    /// <summary>Leave the data folder behind on dispose, for a second host to start on the same database.</summary>
    public bool KeepDataDir { get; init; }

    /// <summary>False when the provider is PostgreSQL and no server is configured: tests skip.</summary>
    public bool Available { get; private set; } = true;

    public WapBridgeApp(string provider = "sqlite", IDictionary<string, string?>? settings = null, bool kestrel = false, string? dataDir = null)
    {
        Provider = provider;
        _kestrel = kestrel;
        DataDir = dataDir ?? Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["WapBridge:DataDir"] = DataDir,
            ["WapBridge:AdminToken"] = AdminToken,
            ["WapBridge:Database:Provider"] = provider,
            ["WapBridge:Hangfire:WorkerCount"] = "1",
            // Tests choose their engine; the real WhatsApp engine would otherwise become the default wherever Node.js is installed.
            ["WapBridge:Engines:Baileys:Enabled"] = "false",
            // Tests run their webhook receivers on loopback, which the shipped configuration refuses.
            ["WapBridge:Webhooks:AllowLoopbackTargets"] = "true",
        };
        foreach (var (key, value) in HermeticDefaults.Settings())
            _settings[key] = value;
        foreach (var (key, value) in GenerousBudget.Settings())
            _settings[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
    }

    public virtual ValueTask InitializeAsync()
    {
        if (Provider == "postgres" && !_settings.ContainsKey("WapBridge:Database:ConnectionString"))
        {
            var server = PostgresDatabase.ServerConnection();
            if (server is null)
            {
                Available = false;
                return ValueTask.CompletedTask;
            }
            _postgres = PostgresDatabase.Create(server);
            _settings["WapBridge:Database:ConnectionString"] = _postgres.ConnectionString;
        }
        if (_kestrel)
            UseKestrel(0);
        StartServer();
        return ValueTask.CompletedTask;
    }

    /// <summary>Call first in a test that needs this host; skips when its database is not available here.</summary>
    public void SkipIfUnavailable()
    {
        if (!Available)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable} (scripts/test.sh does).");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services => services.AddSingleton<OutboundConnector>(new LoopbackOnlyConnector()));
    }

    /// <summary>The loopback address when started with Kestrel.</summary>
    public Uri ServerAddress => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient CreateApiClient(string? authorization = null)
    {
        var client = _kestrel ? new HttpClient { BaseAddress = ServerAddress } : CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (authorization is not null)
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        return client;
    }

    /// <summary>A new customer and API key made through the admin API, as an operator would.</summary>
    public async Task<TestCustomer> CreateCustomerAsync(string? name = null)
    {
        using var admin = CreateApiClient("Bearer " + AdminToken);
        name ??= "Customer " + Guid.NewGuid().ToString("N")[..6];
        var customer = await admin.CallAsync("wap_bridge.api.admin.create_customer", new { name, email = $"{Guid.NewGuid():N}@example.com" });
        customer.EnsureOk();
        var code = customer.Message!["customer"]!.GetValue<string>();
        var key = await admin.CallAsync("wap_bridge.api.admin.create_api_key", new { customer = code, label = "tests" });
        key.EnsureOk();
        return new TestCustomer(code, key.Message!["api_key"]!.GetValue<string>(), key.Message!["api_secret"]!.GetValue<string>());
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_postgres is not null)
            await _postgres.DisposeAsync();
        if (!KeepDataDir)
            try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }
}

public sealed record TestCustomer(string Code, string ApiKey, string ApiSecret)
{
    public string TokenHeader => $"token {ApiKey}:{ApiSecret}";
}

/// <summary>A parsed API answer.</summary>
public sealed record ApiAnswer(int Status, JsonNode? Body, HttpResponseMessage Response)
{
    public JsonNode? Message => Body?["message"];
    public string? ExcType => Body?["exc_type"]?.GetValue<string>();
    public string? ErrorCode => Body?["error"]?["code"]?.GetValue<string>();
    public string? ErrorField => Body?["error"]?["field"]?.GetValue<string>();

    public ApiAnswer EnsureOk()
    {
        Assert.True(Status == 200, $"expected 200, got {Status}: {Body?.ToJsonString()}");
        return this;
    }
}

public static class ApiClientExtensions
{
    public static Task<ApiAnswer> CallAsync(this HttpClient client, string method, object? jsonArgs = null) =>
        client.SendForAnswerAsync(new HttpRequestMessage(HttpMethod.Post, "/api/method/" + method)
        {
            Content = jsonArgs is null ? null : JsonContent.Create(jsonArgs),
        });

    public static Task<ApiAnswer> SendRawAsync(this HttpClient client, HttpMethod verb, string path, string? body = null, string? contentType = null,
        IDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(verb, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            request.Headers.TryAddWithoutValidation(name, value);
        return client.SendForAnswerAsync(request);
    }

    public static async Task<ApiAnswer> SendForAnswerAsync(this HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try { body = text.Length > 0 ? JsonNode.Parse(text) : null; } catch (System.Text.Json.JsonException) { }
        return new ApiAnswer((int)response.StatusCode, body, response);
    }
}
