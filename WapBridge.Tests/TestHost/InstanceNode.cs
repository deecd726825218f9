using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Accounts;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// The instance runtime of one node without the web server: a generic host with the services a test registers, a
/// SQLite file in <paramref name="dataDir"/>, and the same cluster registration the server uses (a silo of one,
/// instance actors, fence, change feed). Component tests fall back to its services.
/// </summary>
public sealed class InstanceNode(string dataDir, TimeProvider time, Action<IServiceCollection>? configure = null) : IAsyncDisposable
{
    /// <summary>Set to join nodes on one PostgreSQL database (a real cluster in this process); SQLite when null.</summary>
    public string? PostgresConnection { get; init; }

    public string NodeId { get; init; } = new NodeOptions().Id;

    /// <summary>Where Cloud API instances find Graph (a <see cref="FakeGraph"/>); by default a loopback port nothing listens on.</summary>
    public Uri? GraphBaseUrl { get; init; }

    private IHost? _host;

    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("Start the node first (StartAsync).");

    /// <summary>Migrates the database, then starts the node (its silo and supervisor need the tables).</summary>
    public async Task StartAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var database = PostgresConnection is null ? new DatabaseOptions() : new DatabaseOptions { Provider = "postgres", ConnectionString = PostgresConnection };
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WapBridge:Node:Id"] = NodeId,
            ["WapBridge:Engines:CloudApi:GraphBaseUrl"] = (GraphBaseUrl ?? new Uri("http://127.0.0.1:9/v23.0")).ToString(),
        });
        if (PostgresConnection is not null)
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["WapBridge:Cluster:SiloPort"] = GatewayProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["WapBridge:Cluster:GatewayPort"] = GatewayProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        var services = builder.Services;
        services.AddLogging();
        services.AddWapBridgeDatabase(database, dataDir);
        services.AddMemoryCache();
        services.AddSingleton(time);
        services.AddDataProtection().SetApplicationName("WapBridge.Tests").PersistKeysToDbContext<WapBridgeDbContext>();
        services.AddAccounts(builder.Configuration);
        services.AddSimulatorEngine(builder.Configuration);
        // Instance actors and the outbox use the Cloud API's parts (its callbacks, the 24-hour window rule) on every engine.
        services.AddCloudApi(builder.Configuration);
        // What instance actors need of Messaging (the outbox they drain), without its hosted services or Webhooks.
        services.Configure<MessagingOptions>(builder.Configuration.GetSection(MessagingOptions.Section));
        services.AddSingleton<IMediaStore>(new MediaStore(Path.Combine(dataDir, "media")));
        services.AddSingleton<MessageOutcomes>();
        services.AddSingleton<Core.Contacts.NumberCheckCache>();
        services.AddSingleton<NewContactBudget>();
        services.Configure<HealthOptions>(o => (o.WarmUp, o.WarmedUpDailyNewContacts) = ([GenerousBudget.NewContactsPerDay], GenerousBudget.NewContactsPerDay));
        services.AddGatewayMetrics();
        services.AddSingleton<OutboxSender>();
        services.AddSingleton<MessageDispatcher>();
        services.AddSingleton<NumberCheckCache>();
        configure?.Invoke(services);
        builder.AddInstances(database, dataDir);
        var host = builder.Build();
        await DatabaseMigrator.MigrateAsync(host.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(), NullLogger.Instance);
        await host.StartAsync();
        _host = host;
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is { } host)
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
