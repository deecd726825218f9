using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>One simulated linked device: pairs by QR or code, stays connected, sends with receipts, receives.</summary>
internal sealed partial class SimulatorSession(SimulatorNetwork network, EngineSessionContext context) : IEngineSession, IEngineGroups
{
    private sealed record Credentials(string Phone, string? PushName);

    private readonly Lock _gate = new();
    private readonly List<ITimer> _timers = [];

    // Receipts due later wait in one heap behind one timer. A timer, its closures and a list entry per receipt kept
    // thousands of objects alive for seconds at a few thousand sends a second (every GC copied them) and made
    // each removal a scan of that list.
    private readonly PriorityQueue<(string MessageId, MessageAck Ack), DateTimeOffset> _receipts = new();
    private ITimer? _receiptTimer;
    private DateTimeOffset? _receiptTimerDue;
    private ITimer? _qrTimer;
    private int _qrCount;
    private string? _pairingPhone;
    private bool _pairing;
    private bool _disposed;

    public string InstanceId => context.InstanceId;
    public int CustomerId => context.CustomerId;
    public string? ConnectedPhone { get; private set; }
    private string? PushName { get; set; }
    private TimeProvider Time => network.Time;

    public async Task ConnectAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        network.Register(this);
        var stored = await context.Credentials.LoadAsync(ct);
        if (stored is not null && JsonSerializer.Deserialize<Credentials>(stored) is { } credentials)
        {
            await ConnectAsAsync(credentials.Phone, credentials.PushName, ct);
            return;
        }
        lock (_gate)
        {
            _pairing = true;
            _qrCount = 0;
        }
        await EmitNextQrAsync();
    }

    private async Task EmitNextQrAsync()
    {
        QrCodeEvent? qr = null;
        PairingExpiredEvent? expired = null;
        lock (_gate)
        {
            _qrTimer?.Dispose();
            _qrTimer = null;
            if (!_pairing || _disposed)
                return;
            if (_qrCount >= network.Options.MaxQrCodes)
            {
                _pairing = false;
                expired = new PairingExpiredEvent(InstanceId, Time.GetUtcNow(), $"QR code not scanned after {_qrCount} codes");
            }
            else
            {
                var lifetime = _qrCount == 0 ? network.Options.FirstQrLifetime : network.Options.NextQrLifetime;
                _qrCount++;
                var now = Time.GetUtcNow();
                qr = new QrCodeEvent(InstanceId, now, NewQrPayload(), now + lifetime);
                _qrTimer = Time.CreateTimer(_ => _ = EmitNextQrAsync(), null, lifetime, Timeout.InfiniteTimeSpan);
            }
        }
        if (qr is not null) await EmitAsync(qr);
        if (expired is not null) await EmitAsync(expired);
    }

    // Shaped like WhatsApp Web's QR payload: ref, noise key, identity key and adv secret, comma-separated.
    private static string NewQrPayload() =>
        "2@" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)) + "," + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        + "," + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "," + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public async Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_pairing)
                throw new EngineSessionStateException("not_pairing", "The instance is not waiting to be paired.");
            _pairingPhone = phoneNumber;
            // As on WhatsApp Web: asking for a code replaces the QR code.
            _qrTimer?.Dispose();
            _qrTimer = null;
        }
        const string alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ123456789";
        var code = string.Concat(Enumerable.Range(0, 8).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]));
        await EmitAsync(new PairingCodeEvent(InstanceId, Time.GetUtcNow(), code), CancellationToken.None);
        return code;
    }

    internal async Task CompletePairingAsync(string phoneNumber, string? pushName, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_pairing)
                throw new WapBridgeException(ErrorKind.Conflict, "not_pairing",
                    ConnectedPhone is null ? "The instance is not showing a QR code; restart it to pair again." : $"The instance is already connected as {ConnectedPhone}.",
                    "instance_id");
            if (_pairingPhone is not null && _pairingPhone != phoneNumber)
                throw WapBridgeException.Invalid("phone_number", "pairing_phone_mismatch", $"The pairing code was requested for {_pairingPhone}, not {phoneNumber}.");
            _pairing = false;
            _qrTimer?.Dispose();
            _qrTimer = null;
        }
        await context.Credentials.SaveAsync(JsonSerializer.Serialize(new Credentials(phoneNumber, pushName)), ct);
        await ConnectAsAsync(phoneNumber, pushName, ct);
    }

    private async Task ConnectAsAsync(string phone, string? pushName, CancellationToken ct)
    {
        await DisconnectedAsync();
        if (await RefusedByBanAsync(phone, ct))
            return;
        ConnectedPhone = phone;
        PushName = pushName;
        Registration = new SimulatedPhoneEntry(InstanceId, pushName, Guid.NewGuid());
        await network.Directory.ConnectedAsync(this, phone, Registration);
        await EmitAsync(new ConnectedEvent(InstanceId, Time.GetUtcNow(), phone, pushName), ct);
        if (network.Options.RandomDisconnectWithin is { } within && within > TimeSpan.Zero)
            Schedule(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * within.TotalMilliseconds), () => DropAsync("random_disconnect", CancellationToken.None));
    }

    internal async Task DropAsync(string reason, CancellationToken ct)
    {
        if (ConnectedPhone is null)
            return;
        await DisconnectedAsync();
        await EmitAsync(new DisconnectedEvent(InstanceId, Time.GetUtcNow(), reason, Transient: true), ct);
    }

    public async Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        if (ConnectedPhone is null)
            return EngineSendResult.Failed("not_connected", "The simulator session is not connected.");
        if (network.Options.SendLatency > TimeSpan.Zero)
            await Task.Delay(network.Options.SendLatency, Time, ct);
        var group = message.ToPhone.EndsWith("@g.us", StringComparison.Ordinal) ? message.ToPhone : null;
        IReadOnlyList<string> recipients;
        if (group is not null)
        {
            // A group this customer's world does not hold is somebody else's: sent, delivered nowhere, as any outside number.
            var post = await network.World(CustomerId).PostAsync(ConnectedPhone, group);
            if (post?.RefusalCode is { } refusal)
                return EngineSendResult.Failed(refusal, post.Refusal!);
            recipients = post?.OtherMembers ?? [];
        }
        else
        {
            var phone = message.ToPhone.EndsWith("@lid", StringComparison.Ordinal)
                ? network.PhoneOfLid(CustomerId, message.ToPhone[..message.ToPhone.IndexOf('@')])
                : message.ToPhone;
            if (phone is not null && !network.IsOnWhatsApp(phone))
                return EngineSendResult.Failed("not_on_whatsapp", $"{message.ToPhone} is not on WhatsApp.");
            if (phone is not null && Refusal(phone) is { } refused)
                return refused;
            recipients = phone is null ? [] : [phone];
        }

        if (network.MarkDelivered(InstanceId, message.Id))
        {
            // Only the sender's own customer's instances are reachable; any other number, another customer's simulated
            // one included, is an ordinary contact: sent with receipts, delivered nowhere, indistinguishable from the rest.
            if (recipients.Count > 0)
            {
                var inbound = new SimulatedInbound(ConnectedPhone, null, message.Text, message.Media, message.Caption, PushName,
                    GroupId: group, QuotedId: message.Quoted?.Key.Id) { Extras = ExtrasOf(message.Content) };
                SimulatedInboundCall? call = null;
                foreach (var to in recipients)
                {
                    // The recipient sees the sender's message id, on this node or another.
                    var reached = await network.ReachAsync(CustomerId, to, this, recipient => recipient.ReceiveAsync(inbound, ct, message.Id),
                        async remote => await remote.DeliverAsync(call ??= await SimulatedInboundCall.FromAsync(inbound, ct, message.Id)));
                    // An instance of the customer answers as its owner decides; an ordinary contact may answer by itself.
                    if (group is null && Exchanged(to) && !reached)
                        ReplyIfDrawn(to);
                }
            }
            await EmitAsync(new MessageStatusEvent(InstanceId, Time.GetUtcNow(), message.Id, MessageAck.Server), ct);
            ScheduleReceipt(network.Options.DeliveredAfter, message.Id, MessageAck.Device);
            if (network.Options.ReadAfter is { } readAfter)
            {
                var ack = message.Media?.MimeType.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) == true ? MessageAck.Played : MessageAck.Read;
                ScheduleReceipt(readAfter, message.Id, ack);
            }
        }
        else
        {
            network.Logger.LogDebug("Simulator collapsed a resend of {MessageId} from {InstanceId}", message.Id, InstanceId);
        }
        return EngineSendResult.Ok;
    }

    public Task SendTypingAsync(string toPhone, CancellationToken ct = default)
    {
        network.RecordTyping(InstanceId, toPhone);
        return Task.CompletedTask;
    }

    /// <summary>What a recipient's phone receives for a send that is not text or media.</summary>
    private static SimulatedExtras? ExtrasOf(OutgoingContent? content) => content switch
    {
        OutgoingReaction r => new SimulatedExtras { ReactionTo = r.Target.Id, Emoji = r.Emoji },
        OutgoingEdit e => new SimulatedExtras { EditOf = e.Target.Id },
        OutgoingDelete d => new SimulatedExtras { RevokeOf = d.Target.Id },
        OutgoingLocation l => new SimulatedExtras { Location = new EngineLocation(l.Latitude, l.Longitude, l.Name, l.Address, null) },
        OutgoingContacts c => new SimulatedExtras { Contacts = c.Contacts.Select(x => new SimulatedContact(x.Name, x.Number)).ToList() },
        OutgoingPoll p => new SimulatedExtras { Poll = new EnginePoll(p.Name, p.Options, p.SelectableCount) },
        _ => null,
    };

    public async Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys, CancellationToken ct = default)
    {
        EnsureConnected();
        foreach (var key in keys)
        {
            network.RecordAction(InstanceId, "read:" + key.Id);
            // A sender that is one of the customer's instances sees its message turn blue.
            var sender = PhoneOf(key.Participant ?? key.RemoteJid);
            if (!key.FromMe && sender is not null)
                await network.ReachAsync(CustomerId, sender, this,
                    session => session.EmitAsync(new MessageStatusEvent(session.InstanceId, Time.GetUtcNow(), key.Id, MessageAck.Read), ct).AsTask(),
                    remote => remote.ReadReceiptAsync(key.Id));
        }
    }

    public Task SendPresenceAsync(string toJid, string state, CancellationToken ct = default)
    {
        EnsureConnected();
        network.RecordAction(InstanceId, $"presence:{toJid}:{state}");
        return Task.CompletedTask;
    }

    public Task DeleteForMeAsync(EngineMessageKey key, DateTimeOffset sentAt, CancellationToken ct = default)
    {
        EnsureConnected();
        network.RecordAction(InstanceId, "delete_for_me:" + key.Id);
        return Task.CompletedTask;
    }

    private void EnsureConnected()
    {
        if (ConnectedPhone is null)
            throw new EngineSessionStateException("not_connected", "The simulator session is not connected.");
    }

    private static string LidUser(string lid) => lid.IndexOf('@') is var at and >= 0 ? lid[..at] : lid;

    private static string? PhoneOf(string jid) =>
        jid.EndsWith("@s.whatsapp.net", StringComparison.Ordinal) || jid.EndsWith("@c.us", StringComparison.Ordinal) ? jid[..jid.IndexOf('@')] : null;

    internal async Task<string> ReceiveAsync(SimulatedInbound inbound, CancellationToken ct, string? id = null)
    {
        EnsureReachable();
        if (inbound.FromPhone is null && inbound.FromLid is null)
            throw WapBridgeException.Missing("from_number");
        var type = inbound.Media is null ? "chat" : WhatsAppIds.MessageTypeFor(inbound.Media.MimeType);
        var message = new InboundEngineMessage(
            id ?? WhatsAppIds.NewMessageId(), inbound.FromPhone, inbound.FromLid, inbound.PushName, inbound.GroupId, type,
            inbound.Media is null ? inbound.Text : inbound.Caption, inbound.Media, inbound.QuotedId, Time.GetUtcNow());
        if (inbound.Extras is { } extras)
            message = SimulatedContent.Apply(message, extras, inbound.Text);
        // As a real engine does: a message naming both sender ids teaches the pair, and an update is announced too.
        // A LID this world gave out is the same person as its number: the engine knows the pair, as WhatsApp tells it.
        var lidPhone = inbound.FromPhone ?? (inbound.FromLid is { } lid ? network.PhoneOfLid(CustomerId, LidUser(lid)) : null);
        if (lidPhone is not null && inbound.FromLid is not null)
            await EmitAsync(new LidMappingEvent(InstanceId, message.Timestamp, LidUser(inbound.FromLid), lidPhone), ct);
        if (lidPhone is not null && inbound.GroupId is null)
            Exchanged(lidPhone);
        await EmitAsync(new MessageReceivedEvent(InstanceId, message.Timestamp, message), ct);
        if (MessageUpdateEvent.For(InstanceId, message.Timestamp, message) is { } update)
            await EmitAsync(update, ct);
        return message.Id;
    }

    internal async Task<string> CallAsync(SimulatedCall call, CancellationToken ct)
    {
        EnsureReachable();
        var id = WhatsAppIds.NewMessageId();
        await EmitAsync(new CallEvent(InstanceId, Time.GetUtcNow(), id, call.FromPhone, call.FromLid, call.Video, IsGroup: false, call.Status), ct);
        return id;
    }

    internal async Task PresenceAsync(SimulatedPresence presence, CancellationToken ct)
    {
        EnsureReachable();
        // As Message.Chat names the conversation (and the Baileys engine reports it): the contact's digits, else its LID.
        var chat = presence.FromPhone ?? presence.FromLid!;
        var now = Time.GetUtcNow();
        await EmitAsync(new PresenceEvent(InstanceId, now, chat, presence.FromPhone, presence.FromLid, presence.State,
            presence.State == "unavailable" ? now : null), ct);
    }

    private void EnsureReachable()
    {
        if (ConnectedPhone is null)
            throw new WapBridgeException(ErrorKind.InstanceNotConnected, "not_connected", $"Instance {InstanceId} is not connected.", "instance_id");
    }

    public Task LogoutAsync(CancellationToken ct = default) => LogoutAsync(ct, "logged_out");

    internal async Task LogoutAsync(CancellationToken ct, string reason)
    {
        lock (_gate)
        {
            _pairing = false;
            _qrTimer?.Dispose();
            _qrTimer = null;
        }
        await DisconnectedAsync();
        await context.Credentials.SaveAsync(null, ct);
        network.Unregister(this);
        await EmitAsync(new LoggedOutEvent(InstanceId, Time.GetUtcNow(), reason), ct);
    }

    private void Schedule(TimeSpan after, Func<Task> action)
    {
        if (after <= TimeSpan.Zero)
        {
            _ = action();
            return;
        }
        lock (_gate)
        {
            if (_disposed) return;
            ITimer? timer = null;
            timer = Time.CreateTimer(_ =>
            {
                lock (_gate) _timers.Remove(timer!);
                timer!.Dispose();
                _ = action();
            }, null, after, Timeout.InfiniteTimeSpan);
            _timers.Add(timer);
        }
    }

    private void ScheduleReceipt(TimeSpan after, string messageId, MessageAck ack)
    {
        if (after <= TimeSpan.Zero)
        {
            _ = EmitAsync(new MessageStatusEvent(InstanceId, Time.GetUtcNow(), messageId, ack)).AsTask();
            return;
        }
        lock (_gate)
        {
            if (_disposed) return;
            var due = Time.GetUtcNow() + after;
            _receipts.Enqueue((messageId, ack), due);
            if (_receiptTimerDue is null || due < _receiptTimerDue)
                ArmReceiptTimer(due);
        }
    }

    /// <summary>Called under <see cref="_gate"/>.</summary>
    private void ArmReceiptTimer(DateTimeOffset due)
    {
        _receiptTimer ??= Time.CreateTimer(_ => EmitDueReceipts(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _receiptTimerDue = due;
        var wait = due - Time.GetUtcNow();
        _receiptTimer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void EmitDueReceipts()
    {
        var due = new List<(string MessageId, MessageAck Ack)>();
        lock (_gate)
        {
            _receiptTimerDue = null;
            if (_disposed) return;
            var now = Time.GetUtcNow();
            while (_receipts.TryPeek(out var receipt, out var at) && at <= now)
                due.Add(_receipts.Dequeue());
            if (_receipts.TryPeek(out _, out var next))
                ArmReceiptTimer(next);
        }
        if (due.Count > 0)
            _ = EmitReceiptsAsync(due);
    }

    private async Task EmitReceiptsAsync(List<(string MessageId, MessageAck Ack)> receipts)
    {
        foreach (var (messageId, ack) in receipts)
            await EmitAsync(new MessageStatusEvent(InstanceId, Time.GetUtcNow(), messageId, ack));
    }

    internal async ValueTask EmitAsync(EngineEvent e, CancellationToken ct = default)
    {
        if (_disposed) return;
        try
        {
            await context.Events.OnEventAsync(e, ct);
        }
        catch (Exception ex)
        {
            network.Logger.LogError(ex, "Simulator event {Event} for {InstanceId} failed in the host", e.GetType().Name, InstanceId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposed = true;
            _qrTimer?.Dispose();
            foreach (var timer in _timers) timer.Dispose();
            _timers.Clear();
            _receiptTimer?.Dispose();
            _receipts.Clear();
        }
        await DisconnectedAsync();
        network.Unregister(this);
    }

    /// <summary>This connection's entry in the customer's world directory, while connected.</summary>
    internal SimulatedPhoneEntry? Registration { get; private set; }

    /// <summary>The phone is no longer this instance's: the other instances (on any node) stop reaching it.</summary>
    private async Task DisconnectedAsync()
    {
        var (phone, registration) = (ConnectedPhone, Registration);
        ConnectedPhone = null;
        Registration = null;
        if (phone is not null && registration is not null)
            await network.Directory.DisconnectedAsync(this, phone, registration.Token);
    }
}
