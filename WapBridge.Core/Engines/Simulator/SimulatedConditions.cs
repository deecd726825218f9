namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// What WhatsApp does to a simulated phone (contract §12 <c>simulator.set_conditions</c>): a reach-out restriction (463)
/// until a time, a temporary ban (402) until a time, the numbers that blocked it, and how many first-message recipients
/// answer. Kept by the customer's world per phone, so it holds on every node and across reconnects and restarts.
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-conditions")]
public sealed record SimulatedConditions(
    [property: Id(0)] DateTimeOffset? RestrictedUntil,
    [property: Id(1)] DateTimeOffset? BannedUntil,
    [property: Id(2)] IReadOnlyList<string> BlockedBy,
    [property: Id(3)] double? ReplyRate)
{
    public static readonly SimulatedConditions None = new(null, null, [], null);

    /// <summary>These conditions with the given parts of <paramref name="change"/> in place of their own.</summary>
    public SimulatedConditions With(SimulatedConditionsChange change) => new(
        change.SetRestrictedUntil ? change.RestrictedUntil : RestrictedUntil,
        change.SetBannedUntil ? change.BannedUntil : BannedUntil,
        change.SetBlockedBy ? change.BlockedBy ?? [] : BlockedBy,
        change.SetReplyRate ? change.ReplyRate : ReplyRate);
}

/// <summary>A change to a phone's conditions: each <c>Set…</c> part replaces that condition (its value null clears it); the others stay.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-conditions-change")]
public sealed record SimulatedConditionsChange(
    [property: Id(0)] bool SetRestrictedUntil,
    [property: Id(1)] DateTimeOffset? RestrictedUntil,
    [property: Id(2)] bool SetBannedUntil,
    [property: Id(3)] DateTimeOffset? BannedUntil,
    [property: Id(4)] bool SetBlockedBy,
    [property: Id(5)] IReadOnlyList<string>? BlockedBy,
    [property: Id(6)] bool SetReplyRate,
    [property: Id(7)] double? ReplyRate);
