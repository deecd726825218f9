using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Instances;

/// <summary>The dashboard's instance reads (<see cref="InstanceDashboard"/>) on a node of one and a real SQLite file: each customer sees only their own.</summary>
public class InstanceDashboardTests : IAsyncLifetime
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "instance-dashboard-" + Guid.NewGuid().ToString("N"));
    private InstanceNode? node;

    /// <summary>The database the node runs on; null for the SQLite file.</summary>
    protected virtual PostgresDatabase? Postgres => null;

    public virtual ValueTask InitializeAsync()
    {
        node = new InstanceNode(dataDir, TimeProvider.System) { PostgresConnection = Postgres?.ConnectionString };
        return new(node.StartAsync());
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (node is not null)
            await node.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }

    private T Get<T>() where T : notnull
    {
        Assert.SkipWhen(node is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        return node!.Services.GetRequiredService<T>();
    }

    private Task<Customer> CustomerAsync(string name) => Get<CustomerService>().CreateAsync(name, $"{Guid.NewGuid():N}@example.com");

    [Fact]
    public async Task A_new_simulator_instance_reads_with_its_pending_qr_code_and_pairing_code_support()
    {
        var customer = await CustomerAsync("Duka Ltd");
        var created = await Get<InstanceService>().CreateAsync(customer.Id, "Shop", "simulator", "TZ");

        var view = await Get<InstanceDashboard>().GetAsync(customer.Id, created.InstanceId.ToLowerInvariant());

        Assert.Equal(created.InstanceId, view.Details.InstanceId);
        Assert.Equal(InstanceState.Qr, view.Details.Status);
        var pending = await Get<InstanceService>().GetQrAsync(customer.Id, created.InstanceId);
        Assert.Equal(pending.Qr, view.Qr?.Qr);
        Assert.StartsWith("data:image/png;base64,", view.Qr?.QrImage);
        Assert.True(view.SupportsPairingCode);
        Assert.False(view.IsDefault);
    }

    [Fact]
    public async Task A_connected_instance_has_no_qr_code_and_the_default_is_marked()
    {
        var customer = await CustomerAsync("Duka Ltd");
        var instances = Get<InstanceService>();
        var shop = await instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var office = await instances.CreateAsync(customer.Id, "Office", "simulator", "TZ");
        await Get<SimulatedPhones>().ScanAsync(shop.InstanceId, "255700000123", null);
        await instances.SetDefaultAsync(customer.Id, shop.InstanceId);

        var view = await Get<InstanceDashboard>().GetAsync(customer.Id, shop.InstanceId);
        Assert.Equal(InstanceState.Connected, view.Details.Status);
        Assert.Null(view.Qr);
        Assert.True(view.IsDefault);
        Assert.False((await Get<InstanceDashboard>().GetAsync(customer.Id, office.InstanceId)).IsDefault);
        Assert.Equal(shop.InstanceId, await Get<InstanceDashboard>().DefaultCodeAsync(customer.Id));
    }

    [Fact]
    public async Task Another_customers_instance_is_not_visible()
    {
        var owner = await CustomerAsync("Owner Ltd");
        var stranger = await CustomerAsync("Stranger Ltd");
        var theirs = await Get<InstanceService>().CreateAsync(owner.Id, "Their shop", "simulator", null);
        await Get<InstanceService>().SetDefaultAsync(owner.Id, theirs.InstanceId);

        var e = await Assert.ThrowsAsync<WapBridgeException>(() => Get<InstanceDashboard>().GetAsync(stranger.Id, theirs.InstanceId));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Null(await Get<InstanceDashboard>().DefaultCodeAsync(stranger.Id));

        // Even a default that points at someone else's instance (a row edited by hand) does not reveal its code.
        await using (var db = await Get<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var theirId = await db.Instances.Where(i => i.Code == theirs.InstanceId).Select(i => i.Id).SingleAsync();
            await db.Customers.Where(c => c.Id == stranger.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.DefaultInstanceId, theirId));
        }
        Assert.Null(await Get<InstanceDashboard>().DefaultCodeAsync(stranger.Id));
        Assert.Equal(theirs.InstanceId, await Get<InstanceDashboard>().DefaultCodeAsync(owner.Id));
    }
}

/// <summary>The same reads on PostgreSQL (skipped without TEST_POSTGRES_CONNECTION).</summary>
public sealed class PostgresInstanceDashboardTests : InstanceDashboardTests
{
    private PostgresDatabase? database;

    protected override PostgresDatabase? Postgres => database;

    public override ValueTask InitializeAsync()
    {
        if (PostgresDatabase.ServerConnection() is not { } server)
            return default;
        database = PostgresDatabase.Create(server);
        return base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (database is not null)
            await database.DisposeAsync();
    }
}
