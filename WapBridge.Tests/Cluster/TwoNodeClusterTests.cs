using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Cluster;

/// <summary>
/// Two nodes of one cluster on one PostgreSQL database (in this process): each serves the instances living on the
/// other — the live QR code, the phone's scan, and the change notices that update dashboards.
/// </summary>
public sealed class TwoNodeClusterTests : IAsyncLifetime
{
    private readonly TwoNodes cluster = new("two-nodes");

    public async ValueTask InitializeAsync() => await cluster.StartAsync();

    [Fact]
    public async Task Each_node_shows_the_qr_pairs_and_hears_the_changes_of_instances_living_on_the_other()
    {
        Assert.SkipWhen(cluster.Database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var first = cluster.Nodes[0].Services;
        var customer = await first.GetRequiredService<CustomerService>().CreateAsync("Two nodes", "two@example.com");
        // Instances spread over the two nodes (least loaded first): with two, one lives on each.
        var created = new List<string>();
        for (var i = 0; i < 2; i++)
            created.Add((await first.GetRequiredService<InstanceService>().CreateAsync(customer.Id, $"Shop {i}", "simulator", null)).InstanceId);
        foreach (var code in created)
        {
            var home = cluster.Nodes.Single(n => n.Services.GetRequiredService<LocalInstances>().Session(code) is not null);
            var away = cluster.Nodes.Single(n => n != home).Services;

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

    [Fact]
    public async Task A_receipt_applied_on_one_node_reaches_the_owners_live_view_on_the_other_and_nobody_elses()
    {
        Assert.SkipWhen(cluster.Database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var (first, second) = (cluster.Nodes[0].Services, cluster.Nodes[1].Services);
        var customers = first.GetRequiredService<CustomerService>();
        var owner = await customers.CreateAsync("Live owner", "live-owner@example.com");
        var other = await customers.CreateAsync("Live other", "live-other@example.com");
        var code = (await first.GetRequiredService<InstanceService>().CreateAsync(owner.Id, "Live", "simulator", null)).InstanceId;
        int instanceId;
        await using (var db = await first.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
            instanceId = await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync(TestContext.Current.CancellationToken);

        var heard = new TaskCompletionSource<IReadOnlyCollection<LiveChange>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var strangerHeard = 0;
        var live = first.GetRequiredService<LiveChanges>();
        using var mine = live.Subscribe(LiveInterest.ForCustomer(owner.Id, LiveTopics.Messages), changes =>
        {
            heard.TrySetResult(changes);
            return Task.CompletedTask;
        });
        using var theirs = live.Subscribe(LiveInterest.ForCustomer(other.Id, LiveTopics.Messages), _ =>
        {
            Interlocked.Increment(ref strangerHeard);
            return Task.CompletedTask;
        });

        // Receipts are applied where the instance's messages went out: here, on the second node. Repeated until the nodes'
        // subscriptions to the hub (made as they start) are in place.
        var listener = second.GetServices<IReceiptListener>().OfType<MessageLiveNotices>().Single();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!heard.Task.IsCompleted && DateTime.UtcNow < deadline)
        {
            await listener.OnAppliedAsync([(instanceId, "3EB0LIVE")], TestContext.Current.CancellationToken);
            await Task.WhenAny(heard.Task, Task.Delay(1000, TestContext.Current.CancellationToken));
        }
        var changes = await heard.Task.WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Equal([new LiveChange(LiveTopics.Messages, owner.Id, code)], changes);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        Assert.Equal(0, Volatile.Read(ref strangerHeard));
    }

    public ValueTask DisposeAsync() => cluster.DisposeAsync();
}
