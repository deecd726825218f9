namespace WapBridge.Core.Telemetry;

/// <summary>
/// One Baileys bridge process of this node as last measured: its own report of memory and event-loop lag arrives
/// periodically, so those are null until the first one.
/// </summary>
public sealed record BridgeProcessSnapshot(
    int Number,
    int ProcessId,
    DateTimeOffset StartedAt,
    int Sessions,
    long? RssBytes,
    long? HeapUsedBytes,
    TimeSpan? EventLoopLag,
    DateTimeOffset? MeasuredAt);

/// <summary>This node's bridge processes, for the metrics and the Admin's Overview.</summary>
public interface IBridgeProcesses
{
    IReadOnlyList<BridgeProcessSnapshot> Current();

    /// <summary>Processes started to replace one that died, since this node started.</summary>
    long Restarts { get; }
}
