using System.Collections.Concurrent;
using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>
/// The instances living on this node, as their grains publish them: the open session (the outbox sends through it)
/// and the instance as last recorded (the send path's hot read). Only the instance actors write here (<see cref="CurrentSession"/>).
/// </summary>
public sealed class LocalInstances
{
    private readonly ConcurrentDictionary<string, Entry> _byCode = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, string> _codeById = new();

    public IEngineSession? Session(string code) => _byCode.TryGetValue(code, out var entry) ? entry.Session : null;

    public IEngineSession? Session(int instanceId) => _codeById.TryGetValue(instanceId, out var code) ? Session(code) : null;

    /// <summary>The instance as this node last recorded it, when it lives here (no query).</summary>
    public Instance? Snapshot(string code) => _byCode.TryGetValue(code, out var entry) ? entry.Instance : null;

    public bool Hosts(int instanceId) => _codeById.ContainsKey(instanceId);

    public int Count => _byCode.Count;

    /// <summary>The codes and fencing epochs of the sessions open here.</summary>
    public IReadOnlyList<(string Code, int InstanceId, long Epoch)> OpenSessions() =>
        _byCode.Where(e => e.Value.Session is not null).Select(e => (e.Key, e.Value.InstanceId, e.Value.Epoch)).ToList();

    internal void Publish(int instanceId, string code, IEngineSession? session, Instance? instance, long epoch)
    {
        _byCode[code] = new Entry(instanceId, session, instance, epoch);
        _codeById[instanceId] = code;
    }

    internal void Remove(int instanceId, string code)
    {
        _byCode.TryRemove(code, out _);
        _codeById.TryRemove(instanceId, out _);
    }

    private sealed record Entry(int InstanceId, IEngineSession? Session, Instance? Instance, long Epoch);
}
