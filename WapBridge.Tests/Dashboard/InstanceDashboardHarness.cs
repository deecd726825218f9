using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Groups;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// A bunit context on the real instance runtime (a node of one: instance actors, simulator engine, SQLite file in a
/// temporary folder), as the dashboard has it in a running server.
/// </summary>
public sealed class InstanceDashboardHarness : IAsyncDisposable
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "instances-ui-" + Guid.NewGuid().ToString("N"));
    private readonly InstanceNode node;

    public BunitContext Ctx { get; } = new();
    public BunitAuthorizationContext Auth { get; }

    public InstanceDashboardHarness(TimeProvider time, Action<SimulatorOptions>? simulator = null, Action<IServiceCollection>? configure = null)
    {
        node = new InstanceNode(dataDir, time, services =>
        {
            services.Configure<SimulatorOptions>(o => simulator?.Invoke(o));
            configure?.Invoke(services);
            // The instance page's Groups panel reads the group cache through GroupDirectory (which finds instances
            // through MessageService); unless the test brought its own, the services it needs, without hosted services.
            services.TryAddSingleton<MessageReceipts>();
            services.TryAddSingleton<MessageIntake>();
            services.TryAddSingleton<OutboundConnector>();
            services.TryAddSingleton<MediaFetcher>();
            services.TryAddSingleton<MessageService>();
            services.TryAddSingleton<GroupCache>();
            services.TryAddSingleton<GroupDirectory>();
        });
        // bunit brings a clock of its own: the page must read the node's.
        Ctx.Services.AddSingleton(time);
        Ctx.Services.AddMudServices();
        Auth = Ctx.AddAuthorization();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        // As in a Blazor Server circuit: only a live circuit subscribes to InstanceChangeFeed.Changed.
        Ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public InstanceService Instances => Ctx.Services.GetRequiredService<InstanceService>();
    public SimulatorNetwork Simulator => Ctx.Services.GetRequiredService<SimulatorNetwork>();

    /// <summary>Creates the database and starts the node; call before rendering.</summary>
    public async Task MigrateAsync()
    {
        await node.StartAsync();
        Ctx.Services.AddFallbackServiceProvider(node.Services);
    }

    public async Task<Customer> CreateCustomerAsync(string name) =>
        await Ctx.Services.GetRequiredService<CustomerService>().CreateAsync(name, $"{Guid.NewGuid():N}@example.com");

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
}
