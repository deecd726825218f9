using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>
/// Learns which contacts an instance already knows, so the new-contact budget and a restriction hold never throttle
/// real conversations (contract §12): those WhatsApp syncs to the device (<see cref="ContactsSyncedEvent"/>) and those
/// who write to it directly before it ever wrote to them. A group message makes nobody a known contact.
/// </summary>
public sealed class KnownContactRecorder(NewContactBudget budget, ILogger<KnownContactRecorder> logger) : IInstanceEventObserver, IInboundMessageObserver
{
    private const int KnownSendersMax = 50_000;

    // Senders stored as known (rows are never removed while the instance exists): their next messages skip the write.
    private readonly ConcurrentDictionary<(int InstanceId, string Sender), byte> _knownSenders = new();

    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        if (engineEvent is not ContactsSyncedEvent synced)
            return;
        var contacts = Merge(synced.Contacts, instance.PhoneNumber);
        if (contacts.Count == 0)
            return;
        await budget.RememberAsync(instance.Id, contacts, KnownContactSources.Synced, ct);
        logger.LogInformation("Instance {Instance} synced {Count} contacts from WhatsApp", instance.Code, contacts.Count);
    }

    /// <summary>
    /// One address per person: a phone named twice keeps the LID it came with, and a LID-only entry of a person also
    /// named by phone is dropped (KnownContacts holds each number and each LID once per instance). Anything but digits,
    /// and the instance's own number, is no contact.
    /// </summary>
    internal static List<KnownContactAddress> Merge(IEnumerable<EngineContactRef> contacts, string? ownNumber)
    {
        var byPhone = new Dictionary<string, string?>(StringComparer.Ordinal);
        var lidsOnly = new List<string>();
        foreach (var contact in contacts)
        {
            var phone = Digits(contact.Phone);
            var lid = Digits(contact.Lid);
            if (phone is not null && phone == ownNumber)
                continue;
            if (phone is not null)
                byPhone[phone] = byPhone.GetValueOrDefault(phone) ?? lid;
            else if (lid is not null)
                lidsOnly.Add(lid);
        }
        var lidsWithPhone = byPhone.Values.OfType<string>().ToHashSet(StringComparer.Ordinal);
        var claimedLids = new HashSet<string>(StringComparer.Ordinal);
        var merged = new List<KnownContactAddress>(byPhone.Count + lidsOnly.Count);
        // Two numbers claiming one LID (a stale pairing in a sync) keep it on the first; the other stays known by number.
        foreach (var (phone, lid) in byPhone)
            merged.Add(new KnownContactAddress(phone, lid is not null && claimedLids.Add(lid) ? lid : null));
        foreach (var lid in lidsOnly.Distinct(StringComparer.Ordinal).Where(l => !lidsWithPhone.Contains(l)))
            merged.Add(new KnownContactAddress(null, lid));
        return merged;
    }

    private static string? Digits(string? value) =>
        value is { Length: > 0 and <= 32 } && value.All(char.IsAsciiDigit) ? value : null;

    /// <summary>A direct message from a contact the instance does not know yet: stored as <c>wrote_first</c> before the message commits.</summary>
    public async Task<bool> AddAsync(WapBridgeDbContext db, RecordedInbound message, CancellationToken ct)
    {
        var inbound = message.Inbound;
        if (inbound.GroupId is not null)
            return false;
        var instanceId = message.Instance.Id;
        var number = Digits(inbound.FromPhone);
        var lid = Digits(WhatsAppIds.LidUserOf(inbound.FromLid));
        if (number is null && lid is null || number is not null && number == message.Instance.PhoneNumber)
            return false;
        if (number is not null && _knownSenders.ContainsKey((instanceId, number)) || lid is not null && _knownSenders.ContainsKey((instanceId, "lid:" + lid)))
            return false;
        // Written at once on its own, not with the message: the outbox may be claiming the same number as a first
        // message right now, and that unique row must never fail the transaction that stores what the contact wrote.
        await budget.RememberAsync(instanceId, [new KnownContactAddress(number, lid)], KnownContactSources.WroteFirst, ct);
        if (_knownSenders.Count >= KnownSendersMax)
            _knownSenders.Clear();
        _knownSenders.TryAdd(number is not null ? (instanceId, number) : (instanceId, "lid:" + lid), 0);
        return false;
    }

    public void Committed()
    {
    }
}
