using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Groups;
using WapBridge.Core.Health;
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

    /// <param name="graphBaseUrl">Where Cloud API instances find Graph (a <see cref="FakeGraph"/>); by default a loopback port nothing listens on.</param>
    public InstanceDashboardHarness(TimeProvider time, Action<SimulatorOptions>? simulator = null, Action<IServiceCollection>? configure = null,
        Uri? graphBaseUrl = null)
    {
        node = new InstanceNode(dataDir, time, services =>
        {
            services.Configure<SimulatorOptions>(o => simulator?.Invoke(o));
            configure?.Invoke(services);
            services.TryAddSingleton<IPublicUrls>(new LoopbackPublicUrls());
            // The instance page's Groups panel reads the group cache through GroupDirectory (which finds instances
            // through MessageService); unless the test brought its own, the services it needs, without hosted services.
            services.TryAddSingleton<MessageReceipts>();
            services.TryAddSingleton<MessageIntake>();
            services.TryAddSingleton<OutboundConnector>();
            services.TryAddSingleton<MediaFetcher>();
            services.TryAddSingleton<MessageService>();
            services.TryAddSingleton<GroupCache>();
            services.TryAddSingleton<GroupDirectory>();
            // The instance page's health panel.
            services.TryAddSingleton<NewContactBudget>();
            services.TryAddSingleton<HealthSignalReader>();
            services.TryAddSingleton<HealthService>();
            services.TryAddSingleton<ProtectionOverride>();
            services.TryAddSingleton<InstanceHealthDashboard>();
        }) { GraphBaseUrl = graphBaseUrl };
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

    /// <summary>Starts the node and logs in as a new customer of that name.</summary>
    public async Task<Customer> StartAsCustomerAsync(string name)
    {
        await MigrateAsync();
        var customer = await CreateCustomerAsync(name);
        LogInAs(customer);
        return customer;
    }

    /// <summary>A new simulator instance of the customer, paired as <paramref name="phone"/>, once the node says it is connected.</summary>
    public async Task<Instance> ConnectedAsync(int customerId, string phone, string name = "Shop phone", string? pushName = null)
    {
        var ct = Xunit.TestContext.Current.CancellationToken;
        var created = await Instances.CreateAsync(customerId, name, "simulator", "TZ");
        await Simulator.ScanAsync(created.InstanceId, phone, pushName ?? name, ct);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await Instances.GetAsync(customerId, created.InstanceId, ct)).Status != InstanceState.Connected)
        {
            Assert.True(DateTime.UtcNow < deadline, "the simulator instance never connected");
            await Task.Delay(50, ct);
        }
        await using var db = await Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(ct);
        return await db.Instances.AsNoTracking().SingleAsync(i => i.Code == created.InstanceId, ct);
    }

    /// <summary>Renders <paramref name="content"/> in the providers MainLayout gives every page: dialogs, selects and snackbars render through them.</summary>
    public IRenderedComponent<ContainerFragment> Render(Action<RenderTreeBuilder> content) =>
        Ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<MudSnackbarProvider>(2);
            b.CloseComponent();
            content(b);
        }));

    /// <summary>Renders a <typeparamref name="T"/> with the given parameters in MainLayout's providers.</summary>
    public IRenderedComponent<ContainerFragment> Render<T>(Action<RenderTreeBuilder>? parameters = null) where T : Microsoft.AspNetCore.Components.IComponent => Render(b =>
    {
        b.OpenComponent<T>(10);
        parameters?.Invoke(b);
        b.CloseComponent();
    });

    public void LogInAs(Customer customer)
    {
        Auth.SetAuthorized("owner@example.com");
        Auth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, "user-" + customer.Id),
            new Claim(WapBridgeClaims.CustomerId, customer.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(WapBridgeClaims.CustomerCode, customer.Code));
    }

    private sealed class LoopbackPublicUrls : IPublicUrls
    {
        public string BaseUrl => "http://127.0.0.1:5080";
    }

    public async ValueTask DisposeAsync()
    {
        await Ctx.DisposeAsync();
        await node.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
