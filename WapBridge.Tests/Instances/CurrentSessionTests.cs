using WapBridge.Core.Instances;

namespace WapBridge.Tests.Instances;

/// <summary>The one session an instance actor holds, as this node's outbox sees it through <see cref="LocalInstances"/>.</summary>
[Trait("Category", "Unit")]
public sealed class CurrentSessionTests
{
    [Fact]
    public async Task A_session_ends_once_when_a_close_and_a_lost_fence_race()
    {
        var local = new LocalInstances();
        var current = new CurrentSession(local);
        var live = new LiveSession(7, "INST-01-0000007", 3, current, CancellationToken.None);
        current.Start(live);
        Assert.True(local.Hosts(7));

        var ends = await Task.WhenAll(current.EndAsync(live), current.EndAsync(live));

        Assert.Equal(1, ends.Count(ended => ended));
        Assert.True(live.Closed.IsCancellationRequested);
        Assert.Null(current.Live);
        Assert.False(local.Hosts(7));
    }

    [Fact]
    public async Task A_replaced_session_neither_publishes_nor_ends_its_successor()
    {
        var local = new LocalInstances();
        var current = new CurrentSession(local);
        var old = new LiveSession(7, "INST-01-0000007", 3, current, CancellationToken.None) { Instance = Snapshot(InstanceState.Connecting) };
        current.Start(old);
        Assert.True(await current.EndAsync(old));
        var reopened = new LiveSession(7, "INST-01-0000007", 4, current, CancellationToken.None) { Instance = Snapshot(InstanceState.Connected) };
        current.Start(reopened);

        // The old session's late state write must not replace what the outbox reads of the new one.
        old.Instance = Snapshot(InstanceState.Disconnected);
        current.PublishIfCurrent(old);
        Assert.Equal(InstanceState.Connected, local.Snapshot("INST-01-0000007")?.State);
        Assert.False(await current.EndAsync(old));
        Assert.Same(reopened, current.Live);
        Assert.True(local.Hosts(7));

        reopened.Instance = Snapshot(InstanceState.Qr);
        current.PublishIfCurrent(reopened);
        Assert.Equal(InstanceState.Qr, local.Snapshot("INST-01-0000007")?.State);
    }

    private static Instance Snapshot(InstanceState state) =>
        new() { Id = 7, Code = "INST-01-0000007", Name = "Shop", Engine = "simulator", NodeId = "01", State = state };
}
