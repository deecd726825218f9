using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Utilities;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Live;

/// <summary>
/// The one source of live updates for dashboards: producers publish typed notices (<see cref="LiveTopics"/>) on
/// whichever node the change happened, and every node's subscribers whose <see cref="LiveInterest"/> matches hear
/// them, merged and throttled per subscriber (<see cref="LiveSubscription"/>). Notices for other nodes are merged
/// too and relayed in batches through <see cref="ILiveChangeHubGrain"/>, so a burst costs the cluster a few calls.
/// </summary>
public sealed class LiveChanges : ILiveChangeObserver
{
    /// <summary>At most two hand-overs a second to each subscriber.</summary>
    public static readonly TimeSpan SubscriberInterval = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan RelayInterval = TimeSpan.FromMilliseconds(200);

    private readonly IGrainFactory _grains;
    private readonly string _nodeId;
    private readonly TimeProvider _time;
    private readonly ILogger<LiveChanges> _logger;
    private readonly LiveSubscription _relay;
    private ImmutableArray<LiveSubscription> _subscribers = [];
    private ILiveChangeObserver? _reference;

    public LiveChanges(IGrainFactory grains, IOptions<NodeOptions> node, TimeProvider time, ILogger<LiveChanges> logger)
    {
        _grains = grains;
        _nodeId = node.Value.Id;
        _time = time;
        _logger = logger;
        _relay = new LiveSubscription(new LiveInterest(new HashSet<string>(), null), RelayAsync, time, RelayInterval, logger, null);
    }

    /// <summary>
    /// Hands <paramref name="handler"/> the notices matching <paramref name="interest"/> from every node, merged, at most
    /// once per <see cref="SubscriberInterval"/>; it runs on the thread pool, one call at a time. Dispose to stop.
    /// </summary>
    public LiveSubscription Subscribe(LiveInterest interest, Func<IReadOnlyCollection<LiveChange>, Task> handler) =>
        Subscribe(interest, handler, SubscriberInterval);

    public LiveSubscription Subscribe(LiveInterest interest, Func<IReadOnlyCollection<LiveChange>, Task> handler, TimeSpan interval)
    {
        var subscription = new LiveSubscription(interest, handler, _time, interval, _logger, Remove);
        ImmutableInterlocked.Update(ref _subscribers, s => s.Add(subscription));
        return subscription;
    }

    /// <summary>
    /// Every notice this node hears (its own and the other nodes'), at once and unmerged, on the publisher's thread:
    /// for the few listeners that must not wait, such as <see cref="InstanceChangeFeed"/>. Handlers must return quickly.
    /// </summary>
    public event Action<LiveChange>? Heard;

    /// <summary>Tells this node's subscribers and, through the hub, the other nodes'. Never blocks the caller.</summary>
    public void Publish(LiveChange change)
    {
        Deliver(change);
        _relay.Offer(change);
    }

    /// <summary>Tells only this node's subscribers: for what every node learns by itself, such as membership.</summary>
    public void PublishHere(LiveChange change) => Deliver(change);

    public void OnChanges(LiveChange[] changes, string fromNode)
    {
        if (fromNode == _nodeId)
            return;
        foreach (var change in changes)
            Deliver(change);
    }

    /// <summary>
    /// Subscribes this node to the hub; repeated periodically and after membership changes, because the hub forgets
    /// subscribers that stop renewing and starts empty when its node dies.
    /// </summary>
    public async Task SubscribeNodeAsync()
    {
        _reference ??= _grains.CreateObjectReference<ILiveChangeObserver>(this);
        await _grains.GetGrain<ILiveChangeHubGrain>(0).SubscribeAsync(_reference);
    }

    private void Deliver(LiveChange change)
    {
        foreach (var handler in Heard?.GetInvocationList() ?? [])
        {
            try
            {
                ((Action<LiveChange>)handler)(change);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "A listener of live changes failed");
            }
        }
        foreach (var subscriber in _subscribers)
            if (subscriber.Interest.Wants(change))
                subscriber.Offer(change);
    }

    private Task RelayAsync(IReadOnlyCollection<LiveChange> changes) =>
        _grains.GetGrain<ILiveChangeHubGrain>(0).PublishAsync([.. changes], _nodeId);

    private void Remove(LiveSubscription subscription) => ImmutableInterlocked.Update(ref _subscribers, s => s.Remove(subscription));
}

[Alias("wapbridge.live-change-observer")]
public interface ILiveChangeObserver : IGrainObserver
{
    [Alias("changed"), OneWay]
    void OnChanges(LiveChange[] changes, string fromNode);
}

/// <summary>The cluster's one relay of live changes to every node's <see cref="LiveChanges"/>.</summary>
[Alias("wapbridge.live-change-hub")]
public interface ILiveChangeHubGrain : IGrainWithIntegerKey
{
    [Alias("subscribe")]
    Task SubscribeAsync(ILiveChangeObserver node);

    [Alias("publish"), OneWay]
    Task PublishAsync(LiveChange[] changes, string fromNode);
}

public sealed class LiveChangeHubGrain(ILogger<LiveChangeHubGrain> logger) : Grain, ILiveChangeHubGrain
{
    // Nodes renew every half minute (ClusterSupervisor); one that stopped renewing for this long is gone.
    private readonly ObserverManager<ILiveChangeObserver> _nodes = new(TimeSpan.FromMinutes(2), logger);

    public Task SubscribeAsync(ILiveChangeObserver node)
    {
        _nodes.Subscribe(node, node);
        return Task.CompletedTask;
    }

    public Task PublishAsync(LiveChange[] changes, string fromNode)
    {
        _nodes.Notify(n => n.OnChanges(changes, fromNode));
        return Task.CompletedTask;
    }
}
