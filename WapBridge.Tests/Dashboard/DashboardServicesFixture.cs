using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// A bunit context with the real Core services the messages and webhook components inject, on a temporary SQLite file.
/// Loopback webhook targets are allowed so tests can run their own receiver.
/// </summary>
public sealed class DashboardComponentContext : IAsyncDisposable
{
    public const string PublicBaseUrl = "http://gateway.invalid:8080";

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "components-" + Guid.NewGuid().ToString("N"));

    public BunitContext Ctx { get; } = new();
    public BunitAuthorizationContext Auth { get; }

    private readonly InstanceNode node;

    public DashboardComponentContext()
    {
        node = new InstanceNode(dataDir, TimeProvider.System, services =>
        {
            services.AddWebhooks(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["WapBridge:Webhooks:AllowLoopbackTargets"] = "true",
                ["WapBridge:Webhooks:AttemptTimeout"] = "00:00:05",
            }).Build());
            services.AddSingleton<IPublicUrls>(new FixedPublicUrls(PublicBaseUrl));
            services.AddSingleton<OutboundConnector>(new LoopbackOnlyConnector());
        });
        // Started here (migrated included): tests render and resolve services right after construction.
        node.StartAsync().GetAwaiter().GetResult();
        Ctx.Services.AddFallbackServiceProvider(node.Services);
        Ctx.Services.AddMudServices();
        Auth = Ctx.AddAuthorization();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        Ctx.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
    }

    public T Get<T>() where T : notnull => Ctx.Services.GetRequiredService<T>();

    public async Task<Customer> CreateCustomerAsync(string name) =>
        await Get<CustomerService>().CreateAsync(name, $"{Guid.NewGuid():N}@example.com");

    public void LogInAs(Customer customer)
    {
        Auth.SetAuthorized("owner@example.com");
        Auth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, "user-" + customer.Id),
            new Claim(WapBridgeClaims.CustomerId, customer.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(WapBridgeClaims.CustomerCode, customer.Code));
    }

    public async ValueTask DisposeAsync()
    {
        await Ctx.DisposeAsync();
        await node.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class FixedPublicUrls(string baseUrl) : IPublicUrls
    {
        public string BaseUrl => baseUrl;
    }
}

/// <summary>A webhook receiver on a loopback port that answers with the given status codes in turn (the last one repeats).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly int[] statuses;
    private int calls;

    public ConcurrentQueue<(string? Id, string Body)> Requests { get; } = new();
    public string Url { get; private set; } = "";

    private WebhookReceiver(int[] statuses)
    {
        this.statuses = statuses.Length == 0 ? [200] : statuses;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        app = builder.Build();
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            Requests.Enqueue((http.Request.Headers["webhook-id"].ToString(), await reader.ReadToEndAsync()));
            var n = Interlocked.Increment(ref calls) - 1;
            var status = this.statuses[Math.Min(n, this.statuses.Length - 1)];
            return Results.Text($"receiver answer {n + 1}: {status}", statusCode: status);
        });
    }

    public static async Task<WebhookReceiver> StartAsync(params int[] statuses)
    {
        var receiver = new WebhookReceiver(statuses);
        await receiver.app.StartAsync();
        receiver.Url = receiver.app.Urls.First().TrimEnd('/') + "/hook";
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
