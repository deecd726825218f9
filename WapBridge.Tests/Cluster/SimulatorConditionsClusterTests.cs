using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Cluster;

/// <summary>
/// Contract §12 <c>simulator.set_conditions</c> in a cluster: set on one node, the conditions reach the instance's
/// session on the other, and hold there after it reconnects.
/// </summary>
public sealed class SimulatorConditionsClusterTests : IAsyncLifetime
{
    private readonly TwoNodes cluster = new("sim-conditions");
    private readonly ConcurrentQueue<EngineEvent> events = new();

    private sealed class Recorder(ConcurrentQueue<EngineEvent> events) : IInstanceEventObserver
    {
        public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
        {
            events.Enqueue(engineEvent);
            return Task.CompletedTask;
        }
    }

    public async ValueTask InitializeAsync() => await cluster.StartAsync(services => services.AddSingleton<IInstanceEventObserver>(new Recorder(events)));

    public ValueTask DisposeAsync() => cluster.DisposeAsync();

    private async Task<T> WaitAsync<T>(string code, Func<T, bool> match) where T : EngineEvent
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (events.OfType<T>().FirstOrDefault(e => e.InstanceId == code && match(e)) is { } found)
                return found;
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        throw new TimeoutException($"{code} never got the {typeof(T).Name} expected.");
    }

    private InstanceNode? HomeOf(string code) => cluster.Nodes.SingleOrDefault(n => n.Services.GetRequiredService<LocalInstances>().Session(code) is not null);

    [Fact]
    public async Task Conditions_set_on_one_node_are_played_by_the_session_on_the_other()
    {
        Assert.SkipWhen(cluster.Database is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
        var here = cluster.Nodes[0].Services;
        var owner = await here.GetRequiredService<CustomerService>().CreateAsync("Sim conditions", "sim-conditions@example.com");
        var phones = here.GetRequiredService<SimulatedPhones>();
        // Placement spreads instances over both nodes: pair until one lives on the other node.
        string? code = null, phone = null;
        for (var i = 0; i < 4 && code is null; i++)
        {
            var candidate = (await here.GetRequiredService<InstanceService>().CreateAsync(owner.Id, "Shop " + i, "simulator", null)).InstanceId;
            var number = "25570000060" + i;
            await phones.ScanAsync(candidate, number, "Shop", TestContext.Current.CancellationToken);
            await WaitAsync<ConnectedEvent>(candidate, _ => true);
            if (HomeOf(candidate) != cluster.Nodes[0])
                (code, phone) = (candidate, number);
        }
        Assert.NotNull(code);
        var session = HomeOf(code)!.Services.GetRequiredService<LocalInstances>().Session(code)!;

        var set = await phones.SetConditionsAsync(owner.Id, code, phone!,
            new SimulatedConditionsChange(false, null, false, null, true, ["255755800001"], false, null), TestContext.Current.CancellationToken);

        Assert.Equal(["255755800001"], set.BlockedBy);
        var blocked = await session.SendAsync(new OutgoingMessage(WhatsAppIds.NewMessageId(), "255755800001", "Hello"), TestContext.Current.CancellationToken);
        Assert.Equal(SendFailurePolicy.BlockedByRecipient, blocked.ErrorCode);

        // A ban set here closes the connection there as WhatsApp's 402, with its end.
        var until = DateTimeOffset.UtcNow.AddHours(1);
        await phones.SetConditionsAsync(owner.Id, code, phone!, new SimulatedConditionsChange(false, null, true, until, false, null, false, null), TestContext.Current.CancellationToken);
        var closed = await WaitAsync<DisconnectedEvent>(code, e => e.BannedUntil is not null);
        Assert.Equal((CloseCodePolicy.Banned, until, false), (closed.Reason, closed.BannedUntil!.Value, closed.Transient));
    }
}
