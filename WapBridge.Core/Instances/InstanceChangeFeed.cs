using Orleans.Concurrency;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Utilities;

namespace WapBridge.Core.Instances;

/// <summary>
/// "This instance's state or QR code changed", heard on every node wherever the instance lives, so dashboards update
/// live: raised here at once, and fanned out to the other nodes through <see cref="IInstanceChangeHubGrain"/>.
/// </summary>
public sealed class InstanceChangeFeed(IGrainFactory grains, IOptions<NodeOptions> node, ILogger<InstanceChangeFeed> logger) : IInstanceChangeObserver
{
    private IInstanceChangeObserver? _reference;

    /// <summary>Raised with the instance code. Handlers run on the caller's thread and must return quickly.</summary>
    public event Action<string>? Changed;

    /// <summary>Tells this node's listeners now and the other nodes' through the hub.</summary>
    public void Publish(string instanceCode)
    {
        Raise(instanceCode);
        _ = grains.GetGrain<IInstanceChangeHubGrain>(0).PublishAsync(instanceCode, node.Value.Id);
    }

    public void OnInstanceChanged(string instanceCode, string fromNode)
    {
        if (fromNode != node.Value.Id)
            Raise(instanceCode);
    }

    /// <summary>
    /// Subscribes this node to the hub; repeated periodically and after membership changes, because the hub forgets
    /// subscribers that stop renewing and starts empty when its node dies.
    /// </summary>
    public async Task SubscribeAsync()
    {
        _reference ??= grains.CreateObjectReference<IInstanceChangeObserver>(this);
        await grains.GetGrain<IInstanceChangeHubGrain>(0).SubscribeAsync(_reference);
    }

    private void Raise(string instanceCode)
    {
        foreach (var handler in Changed?.GetInvocationList() ?? [])
        {
            try
            {
                ((Action<string>)handler)(instanceCode);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "A listener of instance changes failed");
            }
        }
    }
}

[Alias("wapbridge.instance-change-observer")]
public interface IInstanceChangeObserver : IGrainObserver
{
    [Alias("changed"), OneWay]
    void OnInstanceChanged(string instanceCode, string fromNode);
}

/// <summary>The cluster's one relay of instance changes to every node's <see cref="InstanceChangeFeed"/>.</summary>
[Alias("wapbridge.instance-change-hub")]
public interface IInstanceChangeHubGrain : IGrainWithIntegerKey
{
    [Alias("subscribe")]
    Task SubscribeAsync(IInstanceChangeObserver node);

    [Alias("publish"), OneWay]
    Task PublishAsync(string instanceCode, string fromNode);
}

public sealed class InstanceChangeHubGrain(ILogger<InstanceChangeHubGrain> logger) : Grain, IInstanceChangeHubGrain
{
    // Nodes renew every InstanceChangeFeed period; one that stopped renewing for this long is gone.
    private readonly ObserverManager<IInstanceChangeObserver> _nodes = new(TimeSpan.FromMinutes(2), logger);

    public Task SubscribeAsync(IInstanceChangeObserver node)
    {
        _nodes.Subscribe(node, node);
        return Task.CompletedTask;
    }

    public Task PublishAsync(string instanceCode, string fromNode)
    {
        _nodes.Notify(n => n.OnInstanceChanged(instanceCode, fromNode));
        return Task.CompletedTask;
    }
}
