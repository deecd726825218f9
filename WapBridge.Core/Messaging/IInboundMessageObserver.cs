using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Another feature's share of a stored inbound message (Webhooks: its <c>message</c> delivery), added to the
/// <see cref="InboundRecorder"/>'s unit of work so the message and what follows from it commit together.
/// </summary>
public interface IInboundMessageObserver
{
    /// <summary>Adds rows to <paramref name="db"/> without saving; true when something was added that <see cref="Committed"/> should announce.</summary>
    Task<bool> AddAsync(WapBridgeDbContext db, RecordedInbound message, CancellationToken ct);

    /// <summary>What <see cref="AddAsync"/> added is durable.</summary>
    void Committed();
}

/// <param name="MediaHash">The stored media's hash when the message has media.</param>
/// <param name="TraceParent">The trace the message was received in (its row's), which what follows from it continues.</param>
public sealed record RecordedInbound(Instance Instance, string CustomerCode, string SerializedId, InboundEngineMessage Inbound, string? MediaHash,
    string? TraceParent = null);
