using System.Collections.Concurrent;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// What WhatsApp does to the simulated phone (contract §12 <c>simulator.set_conditions</c>), played as WhatsApp plays
/// it: 463 on a send to a new contact while restricted, a 402 close while banned (and again on every connect until the
/// ban ends), <c>blocked</c> on a send to someone who blocked the number, and answers from a share of first-message
/// recipients.
/// </summary>
internal sealed partial class SimulatorSession
{
    private sealed record ActiveConditions(SimulatedConditions Conditions, HashSet<string> BlockedBy);

    private const string SimulatedReply = "Thanks, got it";

    // WhatsApp knows who the number ever talked with; the simulator remembers the contacts of this session's phone.
    // Bounded: past the cap it starts over (a long load test would otherwise grow it without end).
    private const int ExchangedMax = 200_000;
    private readonly ConcurrentDictionary<string, byte> _exchanged = new(StringComparer.Ordinal);
    private string? _exchangedPhone;

    private ActiveConditions _conditions = new(SimulatedConditions.None, []);

    /// <summary>The conditions the world holds for this phone now, as the session last heard them.</summary>
    internal SimulatedConditions Conditions => Volatile.Read(ref _conditions).Conditions;

    /// <summary>New conditions for the phone: kept for the sends to come; a ban closes the connection now.</summary>
    internal async Task ApplyConditionsAsync(SimulatedConditions conditions, CancellationToken ct)
    {
        Volatile.Write(ref _conditions, new ActiveConditions(conditions, conditions.BlockedBy.ToHashSet(StringComparer.Ordinal)));
        if (ConnectedPhone is not null && conditions.BannedUntil is { } until && until > Time.GetUtcNow())
            await BannedAsync(until, ct);
    }

    /// <summary>
    /// On connecting as <paramref name="phone"/>: reads its conditions from the customer's world; true when a ban
    /// refused the connection (reported as WhatsApp's 402, so the host waits for its end).
    /// </summary>
    private async Task<bool> RefusedByBanAsync(string phone, CancellationToken ct)
    {
        if (_exchangedPhone != phone)
        {
            _exchanged.Clear();
            _exchangedPhone = phone;
        }
        var conditions = await network.World(CustomerId).ConditionsAsync(phone);
        Volatile.Write(ref _conditions, new ActiveConditions(conditions, conditions.BlockedBy.ToHashSet(StringComparer.Ordinal)));
        if (conditions.BannedUntil is not { } until || until <= Time.GetUtcNow())
            return false;
        await BannedAsync(until, ct);
        return true;
    }

    /// <summary>Closes the connection as WhatsApp's 402 does: <see cref="CloseCodePolicy"/> decides, as for the Baileys engine.</summary>
    private async Task BannedAsync(DateTimeOffset until, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        var decision = CloseCodePolicy.Decide(402, error: "temporarily banned (simulated)", expireSeconds: (long)Math.Ceiling((until - now).TotalSeconds));
        await DisconnectedAsync();
        await EmitAsync(new DisconnectedEvent(InstanceId, now, decision.Reason, decision.Reconnect) { BannedUntil = until, Detail = decision.Detail }, ct);
    }

    /// <summary>What WhatsApp refuses of a direct send to <paramref name="phone"/> under the phone's conditions; null when it goes.</summary>
    private EngineSendResult? Refusal(string phone)
    {
        var active = Volatile.Read(ref _conditions);
        if (active.BlockedBy.Contains(phone))
            return EngineSendResult.Failed(SendFailurePolicy.BlockedByRecipient, $"{phone} blocked this number; WhatsApp does not deliver to them.");
        if (active.Conditions.RestrictedUntil is { } until && until > Time.GetUtcNow() && !_exchanged.ContainsKey(phone))
            return EngineSendResult.Failed(SendFailurePolicy.ReachoutTimelock,
                $"WhatsApp restricts this number from messaging new contacts (reach-out timelock) until {until:u}.") with { RestrictedUntil = until };
        return null;
    }

    /// <summary>Remembers a contact the phone exchanged a message with; true the first time.</summary>
    private bool Exchanged(string phone)
    {
        if (_exchanged.ContainsKey(phone))
            return false;
        if (_exchanged.Count >= ExchangedMax)
            _exchanged.Clear();
        return _exchanged.TryAdd(phone, 0);
    }

    /// <summary>
    /// After a first message to an ordinary contact: it answers when its number draws below the reply rate, once it has
    /// read the message, as a person would.
    /// </summary>
    private void ReplyIfDrawn(string phone)
    {
        if (Conditions.ReplyRate is not { } rate || SimulatedIdentities.ReplyDraw(CustomerId, phone) >= rate)
            return;
        var after = (network.Options.ReadAfter ?? network.Options.DeliveredAfter) + TimeSpan.FromSeconds(1);
        Schedule(after, async () =>
        {
            try
            {
                await ReceiveAsync(new SimulatedInbound(phone, null, SimulatedReply, PushName: SimulatedIdentities.PushNameOf(CustomerId, phone)), CancellationToken.None);
            }
            catch (WapBridgeException)
            {
                // The connection closed meanwhile: the simulator drops the answer.
            }
        });
    }
}
