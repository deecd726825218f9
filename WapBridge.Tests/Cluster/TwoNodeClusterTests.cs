using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Cluster;

/// <summary>
/// Two nodes of one cluster on one PostgreSQL database (in this process): each serves the instances living on the
/// other — the live QR code, the phone's scan, and the change notices that update dashboards.
/// </summary>
public sealed class TwoNodeClusterTests : IAsyncLifetime
{
    private PostgresDatabase? database;
    private readonly List<InstanceNode> nodes = [];
    private readonly string root = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "two-nodes-" + Guid.NewGuid().ToString("N"));

    public async ValueTask InitializeAsync()
    {
        if (PostgresDatabase.ServerConnection() is not { } server)
            return;
        database = PostgresDatabase.Create(server);
        foreach (var id in new[] { "01", "02" })
        {
            var node = new InstanceNode(Path.Combine(root, id), TimeProvider.System) { PostgresConnection = database.ConnectionString, NodeId = id };
            await node.StartAsync();
            nodes.Add(node);
        }
    }

    [Fact]
    public async Task Each_node_shows_the_qr_pairs_and_hears_the_changes_of_instances_living_on_the_other()
    {
        Assert.SkipWhen(database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var first = nodes[0].Services;
        var customer = await first.GetRequiredService<CustomerService>().CreateAsync("Two nodes", "two@example.com");
        // Instances spread over the two nodes (least loaded first): with two, one lives on each.
        var created = new List<string>();
        for (var i = 0; i < 2; i++)
            created.Add((await first.GetRequiredService<InstanceService>().CreateAsync(customer.Id, $"Shop {i}", "simulator", null)).InstanceId);
        foreach (var code in created)
        {
            var home = nodes.Single(n => n.Services.GetRequiredService<LocalInstances>().Session(code) is not null);
            var away = nodes.Single(n => n != home).Services;

            var qr = await away.GetRequiredService<InstanceService>().GetQrAsync(customer.Id, code);
            Assert.StartsWith("data:image/png;base64,", qr.QrImage);

            var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            away.GetRequiredService<InstanceChangeFeed>().Changed += changed =>
            {
                if (changed == code)
                    heard.TrySetResult();
            };
            await away.GetRequiredService<SimulatedPhones>().ScanAsync(code, "25570000040" + created.IndexOf(code), "Away");
            await heard.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var status = await away.GetRequiredService<InstanceService>().GetAsync(customer.Id, code);
            Assert.Equal(InstanceState.Connected, status.Status);
            Assert.Equal(home.NodeId, status.Node);
        }
        Assert.NotEqual(
            (await first.GetRequiredService<InstanceService>().GetAsync(customer.Id, created[0])).Node,
            (await first.GetRequiredService<InstanceService>().GetAsync(customer.Id, created[1])).Node);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
            await node.DisposeAsync();
        if (database is not null)
            await database.DisposeAsync();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
