using Microsoft.Extensions.DependencyInjection;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Cluster;

/// <summary>
/// Nodes 01 and 02 of one cluster on a fresh PostgreSQL database, in this process, their files under one temporary
/// folder. Without a PostgreSQL server (TEST_POSTGRES_CONNECTION) nothing starts and <see cref="Database"/> stays null.
/// </summary>
public sealed class TwoNodes(string name) : IAsyncDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "wapbridge-tests", name + "-" + Guid.NewGuid().ToString("N"));
    private readonly List<InstanceNode> nodes = [];

    public PostgresDatabase? Database { get; private set; }
    public IReadOnlyList<InstanceNode> Nodes => nodes;

    public async Task StartAsync(Action<IServiceCollection>? configure = null)
    {
        if (PostgresDatabase.ServerConnection() is not { } server)
            return;
        Database = PostgresDatabase.Create(server);
        foreach (var id in new[] { "01", "02" })
        {
            var node = new InstanceNode(Path.Combine(root, id), TimeProvider.System, configure) { PostgresConnection = Database.ConnectionString, NodeId = id };
            await node.StartAsync();
            nodes.Add(node);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
            await node.DisposeAsync();
        if (Database is not null)
            await Database.DisposeAsync();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
