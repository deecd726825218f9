using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// A bunit context with the real instance services (manager, simulator engine, SQLite file in a temporary
/// folder), as the dashboard has them in a running server.
/// </summary>
public sealed class InstanceDashboardHarness : IAsyncDisposable
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "instances-ui-" + Guid.NewGuid().ToString("N"));

    public BunitContext Ctx { get; } = new();
    public BunitAuthorizationContext Auth { get; }

    public InstanceDashboardHarness(TimeProvider time, Action<SimulatorOptions>? simulator = null, Action<IServiceCollection>? configure = null)
    {
        var services = Ctx.Services;
        services.AddWapBridgeDatabase(new DatabaseOptions(), dataDir);
        services.AddMemoryCache();
        services.AddSingleton(time);
        services.AddLogging();
        services.AddMudServices();
        services.AddDataProtection().SetApplicationName("WapBridge.Tests");
        services.AddSingleton<CustomerService>();
        services.Configure<NodeOptions>(_ => { });
        services.Configure<SimulatorOptions>(o => simulator?.Invoke(o));
        services.AddSingleton<SimulatorNetwork>();
        services.AddSingleton<IWhatsAppEngine, SimulatorEngine>();
        configure?.Invoke(services);
        services.AddSingleton<EngineRegistry>();
        services.AddSingleton<InstanceManager>();
        services.AddSingleton<InstanceService>();
        Auth = Ctx.AddAuthorization();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        // As in a Blazor Server circuit: only a live circuit subscribes to InstanceManager.Changed.
        Ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public InstanceService Instances => Ctx.Services.GetRequiredService<InstanceService>();
    public InstanceManager Manager => Ctx.Services.GetRequiredService<InstanceManager>();
    public SimulatorNetwork Simulator => Ctx.Services.GetRequiredService<SimulatorNetwork>();

    public async Task MigrateAsync() =>
        await DatabaseMigrator.MigrateAsync(Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(), NullLogger.Instance);

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
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
