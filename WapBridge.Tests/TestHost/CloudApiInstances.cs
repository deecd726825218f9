using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// The gateway with its Cloud API engine pointed at a <see cref="FakeGraph"/> on loopback (started first, disposed last).
/// Messages go out unthrottled and webhooks are retried quickly, as in <see cref="Webhooks.FastWebhooks"/>.
/// </summary>
public class CloudApiApp(string provider = "sqlite", IDictionary<string, string?>? settings = null, bool kestrel = false)
    : WapBridgeApp(provider, Webhooks.FastWebhooks.Settings(settings), kestrel)
{
    private FakeGraph? _graph;

    /// <summary>Everything the host logs (tests assert that no token or secret ever appears).</summary>
    public LogCapture Logs { get; } = new();

    public FakeGraph Graph => _graph ?? throw new InvalidOperationException("the fake Graph starts with the app (InitializeAsync)");

    public override async ValueTask InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        await base.InitializeAsync();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("WapBridge:Engines:CloudApi:GraphBaseUrl", Graph.BaseUrl.ToString());
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFilter(_ => true).AddProvider(Logs));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_graph is not null)
            await _graph.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteCloudApiApp() : CloudApiApp("sqlite");

public sealed class PostgresCloudApiApp() : CloudApiApp("postgres");

/// <summary>A Cloud API instance made through the API: what <c>create_instance</c> answered, and the fake Graph number it is.</summary>
public sealed record CloudApiTestInstance(HttpClient Client, string InstanceId, string WebhookUrl, string VerifyToken, FakeGraphNumber Number)
{
    /// <summary>Digits-only E.164 of the business number (what WapBridge shows as the instance's phone_number).</summary>
    public string Phone => new(Number.DisplayPhoneNumber.Where(char.IsAsciiDigit).ToArray());
}

/// <summary>Creating Cloud API instances in tests as a customer would: <c>create_instance</c> with the <c>cloudapi</c> object.</summary>
public static class CloudApiTestInstances
{
    public const string CreateInstance = "wap_bridge.api.instances.create_instance";

    /// <summary>The <c>cloudapi</c> argument for <paramref name="number"/>; the verify token left out unless given.</summary>
    public static Dictionary<string, object?> Arguments(FakeGraphNumber number, string? verifyToken = null)
    {
        var cloudapi = new Dictionary<string, object?>
        {
            ["phone_number_id"] = number.PhoneNumberId,
            ["business_account_id"] = number.BusinessAccountId,
            ["access_token"] = number.AccessToken,
            ["app_secret"] = number.AppSecret,
        };
        if (verifyToken is not null)
            cloudapi["verify_token"] = verifyToken;
        return cloudapi;
    }

    /// <summary>
    /// A new Cloud API instance of the customer behind <paramref name="client"/> for <paramref name="number"/> (default
    /// <see cref="FakeGraph.DefaultNumber"/>, which the fake Graph must know), waited for until Graph answered and it is connected.
    /// </summary>
    public static async Task<CloudApiTestInstance> CreateConnectedAsync(HttpClient client, FakeGraphNumber? number = null, string? name = null,
        string defaultCountry = "TZ", int seconds = 20)
    {
        number ??= FakeGraph.DefaultNumber;
        var created = (await client.CallAsync(CreateInstance, new Dictionary<string, object?>
        {
            ["name"] = name ?? "Cloud " + Guid.NewGuid().ToString("N")[..6],
            ["engine"] = "cloudapi",
            ["default_country"] = defaultCountry,
            ["cloudapi"] = Arguments(number, number.VerifyToken),
        })).EnsureOk().Message!;
        var instanceId = created["instance_id"]!.GetValue<string>();
        await WaitForStatusAsync(client, instanceId, "connected", seconds);
        return new CloudApiTestInstance(client, instanceId, created["webhook_url"]!.GetValue<string>(), created["verify_token"]!.GetValue<string>(), number);
    }

    /// <summary>A new customer with a connected Cloud API instance on <paramref name="app"/>'s fake Graph.</summary>
    public static async Task<CloudApiTestInstance> CreateCloudApiInstanceAsync(this CloudApiApp app, FakeGraphNumber? number = null)
    {
        number ??= FakeGraph.DefaultNumber;
        app.Graph.AddNumber(number);
        var customer = await app.CreateCustomerAsync();
        return await CreateConnectedAsync(app.CreateApiClient(customer.TokenHeader), number);
    }

    /// <summary>A number the fake Graph does not know yet, with its own ids, token and app secret (one per test keeps tests apart).</summary>
    public static FakeGraphNumber NewNumber(string? verifyToken = null)
    {
        var n = Random.Shared.NextInt64(100_000_000_000_000, 999_999_999_999_999);
        var local = Random.Shared.Next(1_000_000, 9_999_999);
        return new FakeGraphNumber($"{n}", $"+255 75{local}", "Duka " + local, $"EAAG-token-{Guid.NewGuid():N}", $"{n + 7}",
            AppSecret: Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), VerifyToken: verifyToken ?? $"verify-{Guid.NewGuid():N}");
    }

    /// <summary>
    /// Waits until the contact's message <paramref name="wamid"/> (posted as Meta's callback) has been processed into an
    /// inbound row: the callback is answered once stored, and the 24-hour window opens only when it is processed.
    /// </summary>
    public static async Task WaitForInboundAsync(this CloudApiApp app, CloudApiTestInstance instance, string wamid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
                if (await db.Messages.AnyAsync(m => m.WaMessageId == wamid && m.Direction == Message.Inbound))
                    return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"inbound {wamid} never arrived at {instance.InstanceId}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls <c>instance_status</c> until it is <paramref name="status"/>.</summary>
    public static async Task<JsonNode> WaitForStatusAsync(HttpClient client, string instanceId, string status, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var current = (await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = instanceId })).EnsureOk().Message!;
            if (current["status"]?.GetValue<string>() == status)
                return current;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"instance {instanceId} never became {status}; last: {current.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}
