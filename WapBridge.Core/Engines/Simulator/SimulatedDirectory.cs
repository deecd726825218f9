using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>A node following a customer's world directory: told when one of its phones connects or disconnects.</summary>
[Alias("wapbridge.simulator-node")]
public interface ISimulatorNodeObserver : IGrainObserver
{
    [Alias("phone"), OneWay]
    void OnPhoneChanged(int customerId, string phone, SimulatedPhoneEntry? entry);
}

/// <summary>
/// Which of a customer's instances is connected as which phone, cluster-wide: the sessions on this node at once, the
/// others from the customer's world actor, cached per node and kept fresh by its notices, so an ordinary send looks up
/// its recipient without a call (the cache is asked for again after <see cref="CacheLifetime"/>, which also renews the
/// subscription). Without a cluster (engine tests) only this node's sessions exist.
/// </summary>
public sealed class SimulatedDirectory : ISimulatorNodeObserver
{
    internal static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan UnregisterTimeout = TimeSpan.FromSeconds(5);

    private sealed record Cache(ImmutableDictionary<string, SimulatedPhoneEntry> Phones, DateTimeOffset FetchedAt);

    private readonly ConcurrentDictionary<(int CustomerId, string Phone), SimulatorSession> _here = new();
    private readonly ConcurrentDictionary<int, Cache> _cluster = new();
    private readonly IGrainFactory? _grains;
    private readonly Func<int, ISimulatedWorldGrain> _world;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<bool> _worldGone;
    private ISimulatorNodeObserver? _reference;

    internal SimulatedDirectory(IGrainFactory? grains, Func<int, ISimulatedWorldGrain> world, TimeProvider time, ILogger logger, Func<bool>? worldGone = null)
    {
        _grains = grains;
        _world = world;
        _time = time;
        _logger = logger;
        _worldGone = worldGone ?? (() => false);
    }

    /// <summary>The session on this node connected as the customer's <paramref name="phone"/>.</summary>
    internal SimulatorSession? Here(int customerId, string phone) =>
        _here.TryGetValue((customerId, phone), out var session) && session.ConnectedPhone == phone ? session : null;

    internal IEnumerable<SimulatorSession> HereOf(int customerId) => _here.Where(e => e.Key.CustomerId == customerId).Select(e => e.Value);

    /// <summary>The instance connected as the customer's <paramref name="phone"/> on another node; null when none (or no cluster).</summary>
    internal async ValueTask<SimulatedPhoneEntry?> ElsewhereAsync(int customerId, string phone)
    {
        if (_grains is null)
            return null;
        var cache = await CacheAsync(customerId);
        return cache.Phones.TryGetValue(phone, out var entry) && Here(customerId, phone) is null ? entry : null;
    }

    /// <summary>The phones of the customer's instances on other nodes, as last heard (no call).</summary>
    internal IEnumerable<string> ElsewhereKnown(int customerId) =>
        _cluster.TryGetValue(customerId, out var cache) ? cache.Phones.Keys : [];

    internal async Task ConnectedAsync(SimulatorSession session, string phone, SimulatedPhoneEntry entry)
    {
        _here[(session.CustomerId, phone)] = session;
        if (_grains is null)
            return;
        try
        {
            await _world(session.CustomerId).RegisterAsync(phone, entry);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Simulator could not register {Phone} of {InstanceId} in its customer's world", phone, session.InstanceId);
        }
    }

    internal async Task DisconnectedAsync(SimulatorSession session, string phone, Guid token)
    {
        _here.TryRemove(new KeyValuePair<(int, string), SimulatorSession>((session.CustomerId, phone), session));
        // The last node stopping takes the world's actor with it: asking it to forget a phone would only fail (loudly) to place it.
        if (_grains is null || _worldGone())
            return;
        try
        {
            // Sessions close as a node stops, maybe with the world's actor: its forgetting a phone must not hold that up.
            await _world(session.CustomerId).UnregisterAsync(phone, token).WaitAsync(UnregisterTimeout, _time);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Simulator could not unregister {Phone} of {InstanceId} from its customer's world", phone, session.InstanceId);
        }
    }

    public void OnPhoneChanged(int customerId, string phone, SimulatedPhoneEntry? entry)
    {
        if (!_cluster.TryGetValue(customerId, out var cache))
            return;
        var phones = entry is null ? cache.Phones.Remove(phone) : cache.Phones.SetItem(phone, entry);
        _cluster.TryUpdate(customerId, cache with { Phones = phones }, cache);
    }

    private async ValueTask<Cache> CacheAsync(int customerId)
    {
        if (_cluster.TryGetValue(customerId, out var cache) && _time.GetUtcNow() - cache.FetchedAt < CacheLifetime)
            return cache;
        // Orleans makes a node's observer reference only outside an actor's turn, and lookups run in them too.
        _reference ??= await Task.Run(() => _grains!.CreateObjectReference<ISimulatorNodeObserver>(this));
        var here = new Dictionary<string, SimulatedPhoneEntry>(StringComparer.Ordinal);
        foreach (var session in HereOf(customerId))
            if (session is { ConnectedPhone: { } phone, Registration: { } entry })
                here[phone] = entry;
        var phones = await _world(customerId).DirectoryAsync(_reference, here);
        cache = new Cache(phones.ToImmutableDictionary(StringComparer.Ordinal), _time.GetUtcNow());
        _cluster[customerId] = cache;
        return cache;
    }
}
