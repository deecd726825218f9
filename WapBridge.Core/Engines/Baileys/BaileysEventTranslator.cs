using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Turns one session's bridge events (PROTOCOL.md) into engine events, handed to the host through the session's
/// outbox: QR and pairing codes, the connection's open and close (and what a close means: logged out, a pairing
/// that expired, banned, transient), messages with their media, receipts, LID mappings, calls and presences, the contacts WhatsApp synced.
/// </summary>
internal sealed class BaileysEventTranslator
{
    private const int MaxCachedLids = 10_000;

    /// <summary>Baileys' <c>DisconnectReason.timedOut</c>, which is also how it closes once its QR codes ran out.</summary>
    private const int TimedOut = 408;

    private readonly BaileysSessionState _state;
    private readonly BaileysEventOutbox _outbox;
    private readonly BaileysAuthBridge _auth;
    private readonly IEngineCredentialStore _credentials;
    private readonly BridgeMediaFolder _mediaFolder;
    private readonly BaileysOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, string> _phoneByLid = new(StringComparer.Ordinal);
    private int _qrCount;
    private int _unreadableReported;

    public BaileysEventTranslator(string instanceId, BaileysSessionState state, BaileysEventOutbox outbox, BaileysAuthBridge auth,
        IEngineCredentialStore credentials, BridgeMediaFolder mediaFolder, BaileysOptions options, TimeProvider time, ILogger logger)
    {
        InstanceId = instanceId;
        _state = state;
        _outbox = outbox;
        _auth = auth;
        _credentials = credentials;
        _mediaFolder = mediaFolder;
        _options = options;
        _time = time;
        _logger = logger;
    }

    private string InstanceId { get; }

    /// <summary>The phone digits a bare LID (<c>…@lid</c>) is known by in this session, from its <c>lid_mapping</c> events.</summary>
    internal string? PhoneForLid(string bareLid) => _phoneByLid.GetValueOrDefault(bareLid);

    /// <summary>A new socket starts its QR count over (the first code lives longer than the next ones).</summary>
    public void ResetQrCount() => Interlocked.Exchange(ref _qrCount, 0);

    public void OnEvent(string eventName, JsonElement data)
    {
        if (_state.Disposed)
            return;
        var now = _time.GetUtcNow();
        switch (eventName)
        {
            case "qr":
                if (BridgeProcess.Str(data, "qr") is { } qr)
                {
                    var first = Interlocked.Increment(ref _qrCount) == 1;
                    var expires = now + (first ? _options.FirstQrLifetime : _options.NextQrLifetime);
                    _outbox.Emit(new QrCodeEvent(InstanceId, now, qr, expires));
                }
                break;
            case "pairing_code":
                // Additive bridge event: the code it requested itself when `open` carried a pairingPhone.
                if (BridgeProcess.Str(data, "code") is { } code)
                    _outbox.Emit(new PairingCodeEvent(InstanceId, now, code));
                break;
            case "connection":
                OnConnection(data, now);
                break;
            case "message":
                OnMessage(data, now, followUp: false);
                break;
            case "message_media":
                OnMessage(data, now, followUp: true);
                break;
            case "undecryptable":
            {
                var messageId = BridgeProcess.Str(data, "id");
                var error = BridgeProcess.Str(data, "error");
                _logger.LogWarning("A message {MessageId} to {Instance} could not be decrypted: {Error}", messageId, InstanceId, error);
                _outbox.Emit(new UndecryptableMessageEvent(InstanceId, now, messageId, error));
                break;
            }
            case "receipt":
                if (BaileysMessageMapper.MapReceipt(InstanceId, now, data) is { } receipt)
                    _outbox.Emit(receipt);
                break;
            case "call":
                if (BaileysConversationMapper.MapCall(InstanceId, now, data, lid => _phoneByLid.GetValueOrDefault(lid)) is { } call)
                    _outbox.Emit(call);
                break;
            case "presence":
                if (BaileysConversationMapper.MapPresence(InstanceId, now, data, lid => _phoneByLid.GetValueOrDefault(lid)) is { } presence)
                    _outbox.Emit(presence);
                break;
            case "group_participants":
                if (BaileysGroupMapper.MapParticipantsEvent(InstanceId, now, data, PhoneForLid) is { } participants)
                    _outbox.Emit(participants);
                break;
            case "group_update":
                if (BaileysGroupMapper.MapUpdateEvent(InstanceId, now, data, PhoneForLid) is { } update)
                    _outbox.Emit(update);
                break;
            case "contacts_synced":
                if (BaileysGroupMapper.MapContactsSynced(InstanceId, now, data, PhoneForLid) is { } contacts)
                    _outbox.Emit(contacts);
                break;
            case "lid_mapping":
                if (BridgeProcess.Str(data, "lid") is { } lid && BaileysMessageMapper.IsLid(lid)
                    && BaileysMessageMapper.PhoneOf(BridgeProcess.Str(data, "pn")) is { } phone)
                {
                    var bare = BaileysMessageMapper.BareLid(lid);
                    // A fast path only: every mapping is stored (LidMappingEvent) and inbound senders are resolved from there too.
                    if (_phoneByLid.Count >= MaxCachedLids)
                        _phoneByLid.Clear();
                    _phoneByLid[bare] = phone;
                    _outbox.Emit(new LidMappingEvent(InstanceId, now, bare[..^"@lid".Length], phone));
                }
                break;
        }
    }

    private void OnConnection(JsonElement data, DateTimeOffset now)
    {
        switch (BridgeProcess.Str(data, "state"))
        {
            case "open":
            {
                _state.Connected = true;
                ResetQrCount();
                var me = data.TryGetProperty("me", out var m) ? m : default;
                var phone = BaileysMessageMapper.PhoneOf(BridgeProcess.Str(me, "id")) ?? "";
                var name = BridgeProcess.Str(me, "name");
                _outbox.Enqueue(async () =>
                {
                    // The marker tells the host this instance has credentials to resume with; the state itself is in the auth store.
                    await _credentials.SaveAsync(JsonSerializer.Serialize(new { engine = BaileysEngine.EngineName, phone, pushName = name }));
                    await _outbox.EmitAsync(new ConnectedEvent(InstanceId, now, phone, name));
                });
                break;
            }
            case "close":
            {
                var wasConnected = _state.Connected;
                _state.Connected = false;
                _state.SocketOpen = false;
                var outcome = BaileysMessageMapper.MapClose(data.TryGetProperty("reason", out var r) ? r : default);
                var qrShown = Volatile.Read(ref _qrCount) > 0;
                if (_auth.CredentialsUnreadable)
                    ReportCredentialsUnreadable(now);
                else if (outcome.LoggedOut)
                {
                    _state.WantOpen = false;
                    _outbox.Enqueue(async () =>
                    {
                        await _auth.ForgetAsync(CancellationToken.None);
                        await _outbox.EmitAsync(new LoggedOutEvent(InstanceId, now, outcome.Reason));
                    });
                }
                else if (outcome.Transient && outcome.StatusCode == TimedOut && qrShown && !wasConnected)
                {
                    // Baileys gives up after its QR codes expire (timedOut): asking again would show QR codes forever.
                    _state.WantOpen = false;
                    _outbox.Emit(new PairingExpiredEvent(InstanceId, now, $"QR code not scanned after {Volatile.Read(ref _qrCount)} codes"));
                }
                else
                {
                    if (!outcome.Transient)
                        _state.WantOpen = false;
                    var bannedUntil = outcome.BannedFor is { } bannedFor ? now + bannedFor : (DateTimeOffset?)null;
                    _outbox.Emit(new DisconnectedEvent(InstanceId, now, outcome.Reason, outcome.Transient) { BannedUntil = bannedUntil, Detail = outcome.Detail });
                }
                break;
            }
        }
    }

    /// <summary>
    /// A final state, reported once (the bridge's close and the failed open both lead here): not logged out, since the
    /// credentials are intact and readable again once the key ring is restored; reconnecting would fail the same way.
    /// </summary>
    public void ReportCredentialsUnreadable(DateTimeOffset now)
    {
        _state.WantOpen = false;
        if (Interlocked.Exchange(ref _unreadableReported, 1) == 0)
            _outbox.Emit(new DisconnectedEvent(InstanceId, now, BaileysAuthBridge.CredentialsUnreadableReason, Transient: false));
    }

    /// <param name="followUp">
    /// A <c>message_media</c> event: the media (or its download error) of a message handed over earlier with <c>mediaPending</c>.
    /// </param>
    private void OnMessage(JsonElement data, DateTimeOffset now, bool followUp)
    {
        if (!data.TryGetProperty("raw", out var raw))
            return;
        BridgeMedia? media = null;
        var mediaError = BridgeProcess.Str(data, "mediaError");
        if (data.TryGetProperty("media", out var m) && m.ValueKind == JsonValueKind.Object)
        {
            try
            {
                var path = _mediaFolder.CheckInbound(BridgeProcess.Str(m, "path"), BridgeProcess.Str(m, "sha256"));
                media = new BridgeMedia(path, BridgeProcess.Str(m, "sha256")!, new FileInfo(path).Length, BridgeProcess.Str(m, "mimetype"), BridgeProcess.Str(m, "fileName"));
            }
            catch (BridgeException e)
            {
                _logger.LogError("Media of a message to {Instance} refused: {Error}", InstanceId, e.Message);
                mediaError = "the media file could not be taken over";
            }
        }
        if (mediaError is not null)
            _logger.LogWarning("Media of a message to {Instance} could not be downloaded: {Error}", InstanceId, mediaError);
        InboundEngineMessage? message;
        try
        {
            message = BaileysMessageMapper.MapMessage(raw, media, lid => _phoneByLid.GetValueOrDefault(lid),
                data.TryGetProperty("pollVote", out var pollVote) ? pollVote : default);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "A Baileys message to {Instance} could not be mapped", InstanceId);
            message = null;
        }
        // A file nobody takes over (not an inbound user message, not media after all) is not left in the folder.
        if (media is not null && message?.Media is null)
            BridgeMediaFolder.TryDelete(media.Path);
        if (message is null)
            return;
        if (followUp)
            message = message with { MediaFollowUp = true, MediaError = message.Media is null ? mediaError ?? "the media could not be downloaded" : null };
        else if (data.TryGetProperty("mediaPending", out var pending) && pending.ValueKind == JsonValueKind.True)
            message = message with { MediaPending = true };
        else if (mediaError is not null)
            message = message with { MediaError = mediaError };
        _outbox.Emit(new MessageReceivedEvent(InstanceId, now, message));
        if (!followUp && MessageUpdateEvent.For(InstanceId, now, message) is { } update)
            _outbox.Emit(update);
    }
}
