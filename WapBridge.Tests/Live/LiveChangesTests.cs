using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;

namespace WapBridge.Tests.Live;

/// <summary>One node's <see cref="LiveChanges"/> on a fake clock: scoping per customer, merging, throttling and bounds.</summary>
[Trait("Category", "Unit")]
public sealed class LiveChangesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private readonly RecordingHub hub = new();
    private readonly LiveChanges live;

    public LiveChangesTests() =>
        live = new LiveChanges(HubOnlyGrainFactory.Create(hub), Options.Create(new NodeOptions { Id = "01" }), time, NullLogger<LiveChanges>.Instance);

    [Fact]
    public async Task A_customers_subscriber_hears_its_own_changes_only_and_an_admin_view_hears_all()
    {
        var mine = new Inbox();
        var admin = new Inbox();
        using var a = live.Subscribe(LiveInterest.ForCustomer(1, LiveTopics.Messages), mine.Receive);
        using var all = live.Subscribe(LiveInterest.ForAll(LiveTopics.Messages, LiveTopics.Nodes), admin.Receive);

        live.Publish(new LiveChange(LiveTopics.Messages, 2, "INST-01-0000002"));
        live.Publish(new LiveChange(LiveTopics.Campaign, 1, "WAP-CAM-0001"));
        live.Publish(new LiveChange(LiveTopics.Nodes, null, null));
        live.Publish(new LiveChange(LiveTopics.Messages, 1, "INST-01-0000001"));

        var heard = await mine.NextAsync();
        Assert.Equal([new LiveChange(LiveTopics.Messages, 1, "INST-01-0000001")], heard);
        var everyone = new HashSet<LiveChange>(await admin.NextAsync());
        while (everyone.Count < 3)
        {
            time.Advance(LiveChanges.SubscriberInterval);
            everyone.UnionWith(await admin.NextAsync());
        }
        Assert.Equal(3, everyone.Count);
        Assert.DoesNotContain(everyone, c => c.Topic == LiveTopics.Campaign);
        Assert.Empty(mine.Received.Skip(1));
    }

    [Fact]
    public async Task A_burst_of_a_thousand_changes_is_two_hand_overs_per_second_at_most_with_the_latest_included()
    {
        var inbox = new Inbox();
        using var subscription = live.Subscribe(LiveInterest.ForCustomer(1, LiveTopics.Messages, LiveTopics.Campaign), inbox.Receive);

        live.Publish(new LiveChange(LiveTopics.Messages, 1, "INST-01-0000001"));
        Assert.Single(await inbox.NextAsync());
        // A campaign's receipts: a thousand notices within the same half second.
        for (var i = 0; i < 1000; i++)
            live.Publish(new LiveChange(i % 2 == 0 ? LiveTopics.Messages : LiveTopics.Campaign, 1, i % 2 == 0 ? "INST-01-0000001" : "WAP-CAM-0001"));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Single(inbox.Received);

        time.Advance(LiveChanges.SubscriberInterval);
        var merged = await inbox.NextAsync();
        Assert.Equal(2, merged.Count);
        Assert.Contains(new LiveChange(LiveTopics.Campaign, 1, "WAP-CAM-0001"), merged);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(2, inbox.Received.Count);
    }

    [Fact]
    public async Task A_slow_subscriber_holds_a_bounded_set_is_never_called_twice_at_once_and_does_not_slow_the_producer()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var concurrent = 0;
        var maxConcurrent = 0;
        var firstCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var slow = live.Subscribe(LiveInterest.ForAll(LiveTopics.Instance), async _ =>
        {
            var now = Interlocked.Increment(ref concurrent);
            maxConcurrent = Math.Max(maxConcurrent, now);
            Interlocked.Increment(ref calls);
            firstCall.TrySetResult();
            await release.Task;
            Interlocked.Decrement(ref concurrent);
        });

        live.Publish(new LiveChange(LiveTopics.Instance, 1, "INST-01-0000000"));
        await firstCall.Task.WaitAsync(Wait, TestContext.Current.CancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 1; i <= 10_000; i++)
            live.Publish(new LiveChange(LiveTopics.Instance, i % 50, $"INST-01-{i:D7}"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"publishing took {clock.Elapsed}");
        Assert.InRange(slow.Pending, 1, LiveSubscription.MaxPending);

        time.Advance(TimeSpan.FromSeconds(5));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(1, Volatile.Read(ref calls));
        release.SetResult();
        await WaitUntilAsync(() => Volatile.Read(ref calls) == 2);
        Assert.Equal(1, maxConcurrent);
        Assert.Equal(0, slow.Pending);
    }

    [Fact]
    public async Task Notices_go_to_the_other_nodes_in_merged_batches_and_theirs_are_heard_here_but_not_our_own_echo()
    {
        var inbox = new Inbox();
        using var subscription = live.Subscribe(LiveInterest.ForCustomer(7, LiveTopics.Campaign), inbox.Receive);

        for (var i = 0; i < 500; i++)
            live.Publish(new LiveChange(LiveTopics.Campaign, 7, "WAP-CAM-0007"));
        await WaitUntilAsync(() => !hub.Batches.IsEmpty);
        Assert.Equal([new LiveChange(LiveTopics.Campaign, 7, "WAP-CAM-0007")], hub.Batches.Single().Changes);
        Assert.Equal("01", hub.Batches.Single().From);
        await inbox.NextAsync();
        // Publishes made after the first hand-over began wait for the next one: let it go before listening for an echo.
        time.Advance(LiveChanges.SubscriberInterval);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        var heard = inbox.Received.Count;

        // The hub fans our own batch back to us: not heard twice.
        live.OnChanges([new LiveChange(LiveTopics.Campaign, 7, "WAP-CAM-0007")], "01");
        time.Advance(LiveChanges.SubscriberInterval);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(heard, inbox.Received.Count);

        live.OnChanges([new LiveChange(LiveTopics.Campaign, 7, "WAP-CAM-0008"), new LiveChange(LiveTopics.Campaign, 8, "WAP-CAM-0009")], "02");
        await WaitUntilAsync(() => inbox.Received.Count > heard);
        Assert.Equal([new LiveChange(LiveTopics.Campaign, 7, "WAP-CAM-0008")], inbox.Received.Last());
    }

    [Fact]
    public async Task A_disposed_subscription_hears_nothing_more()
    {
        var inbox = new Inbox();
        var subscription = live.Subscribe(LiveInterest.ForCustomer(1, LiveTopics.Instance), inbox.Receive);
        subscription.Dispose();

        live.Publish(new LiveChange(LiveTopics.Instance, 1, "INST-01-0000001"));
        time.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Empty(inbox.Received);
        Assert.Equal(0, subscription.Pending);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition was not met in time");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private sealed class Inbox
    {
        private readonly SemaphoreSlim _arrived = new(0);

        public ConcurrentQueue<IReadOnlyCollection<LiveChange>> Received { get; } = new();

        private int _taken;

        public Task Receive(IReadOnlyCollection<LiveChange> changes)
        {
            Received.Enqueue([.. changes]);
            _arrived.Release();
            return Task.CompletedTask;
        }

        public async Task<IReadOnlyCollection<LiveChange>> NextAsync()
        {
            Assert.True(await _arrived.WaitAsync(Wait, TestContext.Current.CancellationToken), "no hand-over came");
            return Received.ElementAt(_taken++);
        }
    }

    private sealed class RecordingHub : ILiveChangeHubGrain
    {
        public ConcurrentQueue<(LiveChange[] Changes, string From)> Batches { get; } = new();

        public Task SubscribeAsync(ILiveChangeObserver node) => Task.CompletedTask;

        public Task PublishAsync(LiveChange[] changes, string fromNode)
        {
            Batches.Enqueue((changes, fromNode));
            return Task.CompletedTask;
        }
    }

    /// <summary>A grain factory that knows one grain, the hub: enough for a node without a silo.</summary>
    public class HubOnlyGrainFactory : DispatchProxy
    {
        private ILiveChangeHubGrain? _hub;

        public static IGrainFactory Create(ILiveChangeHubGrain hub)
        {
            var factory = Create<IGrainFactory, HubOnlyGrainFactory>();
            ((HubOnlyGrainFactory)(object)factory)._hub = hub;
            return factory;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true } && targetMethod.GetGenericArguments()[0] == typeof(ILiveChangeHubGrain)
                ? _hub
                : throw new NotSupportedException(targetMethod?.Name);
    }
}
