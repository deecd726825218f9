using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// One WhatsApp linked device on a bridge process. Bridge events are mapped here and handed to the host one at a
/// time, in order, off the bridge's reader loop (a host handler may itself wait for the bridge). Auth-state calls
/// are answered from the host's encrypted store, one at a time, so Baileys sees its own writes in order.
/// </summary>
internal sealed class BaileysSession : IEngineSession, IBridgeSessionHandler
{
    /// <summary>The final reason when the auth state cannot be decrypted (a lost Data Protection key ring).</summary>
    internal const string CredentialsUnreadable = "credentials unreadable: restore the key ring or pair again";

    private const int MaxCachedLids = 10_000;

    private readonly BaileysSupervisor _supervisor;
    private readonly BaileysOptions _options;
    private readonly EngineSessionContext _context;
    private readonly IEngineAuthStore _auth;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Func<Task>> _outbox = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly SemaphoreSlim _authGate = new(1, 1);
    private readonly ConcurrentDictionary<string, string> _phoneByLid = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();

    private volatile BridgeProcess? _process;
    private volatile bool _wantOpen;
    private volatile bool _socketOpen;
    private volatile bool _connected;
    private volatile bool _disposed;
    private volatile bool _credentialsUnreadable;
    private int _qrCount;
    private int _unreadableReported;

    public BaileysSession(BaileysSupervisor supervisor, BaileysOptions options, EngineSessionContext context, TimeProvider time, ILogger logger)
    {
        _supervisor = supervisor;
        _options = options;
        _context = context;
        _auth = context.AuthState ?? new MemoryAuthStore();
        _time = time;
        _logger = logger;
        _ = Task.Run(PumpAsync);
    }

    public string InstanceId => _context.InstanceId;

    /// <summary>The bridge process this session is on, if any (tests, diagnostics).</summary>
    internal BridgeProcess? Process => _process;

    internal bool IsConnected => _connected;

    /// <summary>
    /// Starts opening and returns: starting a bridge can take seconds, and the outcome arrives as events anyway
    /// (QR, connected, or a transient disconnect naming why the bridge could not open the session).
    /// </summary>
    public Task ConnectAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _wantOpen = true;
        _ = OpenInBackgroundAsync();
        return Task.CompletedTask;
    }

    private async Task OpenInBackgroundAsync()
    {
        try
        {
            await OpenAsync(_lifetime.Token);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
        }
        catch (BridgeException e) when (e.Code == BridgeProcess.ProtocolMismatch)
        {
            ReportProtocolMismatch(e);
        }
        catch (Exception e)
        {
            _logger.LogWarning("Opening Baileys session {Instance} failed: {Error}", InstanceId, e.Message);
            if (_credentialsUnreadable)
                ReportCredentialsUnreadable(_time.GetUtcNow());
            else if (!_disposed && _wantOpen)
                Enqueue(() => EmitAsync(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), "could not open the WhatsApp session: " + e.Message, Transient: true)));
        }
    }

    /// <summary>Opens the socket on a live bridge process unless it is open already (the supervisor and the host may both ask).</summary>
    private async Task OpenAsync(CancellationToken ct)
    {
        await _openGate.WaitAsync(ct);
        try
        {
            if (_disposed || !_wantOpen)
                return;
            if (_socketOpen && _process is { IsAlive: true })
                return;
            var process = await _supervisor.AcquireAsync(this, ct);
            _process = process;
            Interlocked.Exchange(ref _qrCount, 0);
            var parameters = new JsonObject { ["session"] = InstanceId };
            if (!string.IsNullOrWhiteSpace(_options.WebSocketUrl))
                parameters["webSocketUrl"] = _options.WebSocketUrl.Trim();
            if (_options.ParsedWaVersion() is { } version)
                parameters["waVersion"] = new JsonArray(version.Select(v => (JsonNode?)v).ToArray());
            if (_options.ParsedBrowser() is { } browser)
                parameters["browser"] = new JsonArray(browser.Select(b => (JsonNode?)b).ToArray());
            // Marked open before asking: a close reported while the request is in flight must win.
            _socketOpen = true;
            try
            {
                await process.RequestAsync("open", parameters, ct);
            }
            catch
            {
                _socketOpen = false;
                throw;
            }
        }
        finally
        {
            _openGate.Release();
        }
    }

    /// <summary>Called by the supervisor when this session's process died.</summary>
    internal void OnBridgeLost(BridgeProcess process, string reason)
    {
        if (_process != process)
            return;
        _process = null;
        _socketOpen = false;
        _connected = false;
        if (_wantOpen && !_disposed)
            Enqueue(() => EmitAsync(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), reason, Transient: true)));
    }

    /// <summary>Called by the supervisor once it may start a new process: reopens this session if it still wants to be open.</summary>
    internal async Task ReopenAfterBridgeLossAsync(CancellationToken ct)
    {
        if (!_wantOpen || _disposed)
            return;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _lifetime.Token);
            await OpenAsync(linked.Token);
            _logger.LogInformation("Reopened Baileys session {Instance} on bridge #{Number}", InstanceId, _process?.Number);
        }
        catch (BridgeException e) when (e.Code == BridgeProcess.ProtocolMismatch)
        {
            ReportProtocolMismatch(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning("Reopening Baileys session {Instance} after a bridge crash failed: {Error}", InstanceId, e.Message);
            Enqueue(() => EmitAsync(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), "the WhatsApp bridge could not be restarted: " + e.Message, Transient: true)));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// An installed bridge of another protocol version: a final state with the fix, since reconnecting would start
    /// the same bridge again.
    /// </summary>
    private void ReportProtocolMismatch(BridgeException e)
    {
        _wantOpen = false;
        _logger.LogError("Baileys session {Instance} not opened: {Error}", InstanceId, e.Message);
        if (!_disposed)
            Enqueue(() => EmitAsync(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), e.Message, Transient: false)));
    }

    public async Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || !_connected)
            return EngineSendResult.Failed("not_connected", "The WhatsApp session is not connected.");
        var parameters = new JsonObject
        {
            ["session"] = InstanceId,
            ["to"] = message.ToJid ?? message.ToPhone + "@s.whatsapp.net",
            ["messageId"] = message.Id,
        };
        string? temporaryFile = null;
        try
        {
            if (message.Media is { } media)
            {
                // The bridge reads the file itself (streamed into Baileys): media never travels in a protocol line.
                var (path, temporary) = await _supervisor.MediaFolder.OutboundPathAsync(media, ct);
                if (temporary)
                    temporaryFile = path;
                parameters["media"] = new JsonObject
                {
                    ["kind"] = MediaKind(media.MimeType),
                    ["path"] = path,
                    ["mimetype"] = media.MimeType,
                    ["fileName"] = media.FileName,
                };
                if (message.Caption is not null)
                    parameters["caption"] = message.Caption;
            }
            else
            {
                parameters["text"] = message.Text ?? "";
            }
            await process.RequestAsync("send", parameters, ct);
            return EngineSendResult.Ok;
        }
        catch (BridgeException e)
        {
            return SendFailure(e);
        }
        finally
        {
            if (temporaryFile is not null)
                BridgeMediaFolder.TryDelete(temporaryFile);
        }
    }

    /// <summary>
    /// A refused send as the outbox decides on it: WhatsApp's code when it gave one (463, 428, …); the bridge gone, not
    /// answering or its socket not open is <c>not_connected</c>, retried with the same id once the session is back.
    /// </summary>
    internal static EngineSendResult SendFailure(BridgeException e)
    {
        if (e.Code is "bridge_exited" or "timeout" or "unknown_session" or "not_connected")
            return EngineSendResult.Failed("not_connected", e.Message);
        if (e.StatusCode is not { } status)
            return EngineSendResult.Failed(e.Code, e.Message);
        DateTimeOffset? until = null;
        if (e.Error.ValueKind == JsonValueKind.Object && e.Error.TryGetProperty("restriction", out var restriction)
            && BridgeProcess.Str(restriction, "until") is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            until = parsed;
        return EngineSendResult.Failed(status.ToString(CultureInfo.InvariantCulture), e.Message) with { RestrictedUntil = until };
    }

    public bool ChecksNumbers => true;

    public async Task<NumberCheckResult?> CheckNumberAsync(string phone, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || !_connected)
            throw new BridgeException("not_connected", "The WhatsApp session is not connected.");
        JsonElement result;
        try
        {
            result = await process.RequestAsync("check_number", new JsonObject { ["session"] = InstanceId, ["phone"] = phone }, ct);
        }
        catch (BridgeException e) when (e.Code == "unknown_method")
        {
            return null; // a bridge that cannot ask: the send goes to the phone number as before
        }
        var exists = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("exists", out var x) && x.ValueKind == JsonValueKind.True;
        return new NumberCheckResult(exists, exists ? BridgeProcess.Str(result, "jid") : null, BridgeProcess.Str(result, "lid"));
    }

    /// <summary>
    /// The bridge's media kind for a MIME type: an Opus voice note is <c>voice</c>; WebP is an image (the API has no way
    /// to ask for a sticker, contract §2: <c>image/*</c> is an image). A GIF is <c>gif</c>: WhatsApp plays GIFs only as MP4
    /// video with <c>gifPlayback</c> (a GIF sent as an image arrives as a still frame), so the bridge transcodes it with
    /// the ffmpeg it ships, or sends it as a document where it has none.
    /// </summary>
    internal static string MediaKind(string mimeType) => WhatsAppIds.MessageTypeFor(mimeType) switch
    {
        "ptt" => "voice",
        "sticker" => "image",
        "image" when IsGif(mimeType) => "gif",
        "chat" => "document",
        var type => type,
    };

    private static bool IsGif(string mimeType) => mimeType.Trim().StartsWith("image/gif", StringComparison.OrdinalIgnoreCase);

    public async Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || _connected)
            throw new WapBridgeException(ErrorKind.Conflict, "not_pairing",
                _connected ? "The instance is already connected." : "The instance is not waiting to be paired; restart it first.", "instance_id");
        JsonElement result;
        try
        {
            result = await process.RequestAsync("pairing_code", new JsonObject { ["session"] = InstanceId, ["phone"] = phoneNumber }, ct);
        }
        catch (BridgeException e)
        {
            throw new WapBridgeException(ErrorKind.Conflict, "pairing_failed", "WhatsApp did not issue a pairing code: " + e.Message, "instance_id");
        }
        var code = BridgeProcess.Str(result, "code") ?? throw new WapBridgeException(ErrorKind.Conflict, "pairing_failed", "The bridge answered without a pairing code.", "instance_id");
        await EnqueueAndWaitAsync(() => EmitAsync(new PairingCodeEvent(InstanceId, _time.GetUtcNow(), code)));
        return code;
    }

    public async Task SendTypingAsync(string toPhone, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || !_connected)
            return;
        try
        {
            await process.RequestAsync("presence", new JsonObject { ["session"] = InstanceId, ["to"] = toPhone + "@s.whatsapp.net", ["state"] = "composing" }, ct);
        }
        catch (BridgeException e)
        {
            _logger.LogDebug("Typing indicator of {Instance} failed: {Error}", InstanceId, e.Message);
        }
    }

    public async Task LogoutAsync(CancellationToken ct = default)
    {
        _wantOpen = false;
        if (_process is { IsAlive: true } process)
        {
            try
            {
                await process.RequestAsync("logout", new JsonObject { ["session"] = InstanceId }, ct, TimeSpan.FromSeconds(15));
            }
            catch (BridgeException e)
            {
                _logger.LogWarning("Baileys logout of {Instance} failed ({Error}); forgetting its auth state anyway", InstanceId, e.Message);
            }
        }
        _connected = false;
        _socketOpen = false;
        await ForgetAuthStateAsync(ct);
        // Waited for: the host closes the session right after, and must have recorded the logout first.
        await EnqueueAndWaitAsync(() => EmitAsync(new LoggedOutEvent(InstanceId, _time.GetUtcNow(), "logged out")));
    }

    private async Task ForgetAuthStateAsync(CancellationToken ct)
    {
        await _auth.ClearAsync(ct);
        await _context.Credentials.SaveAsync(null, ct);
    }

    // ---- bridge → session ----

    public void OnBridgeEvent(string eventName, JsonElement data)
    {
        if (_disposed)
            return;
        var now = _time.GetUtcNow();
        switch (eventName)
        {
            case "qr":
                if (BridgeProcess.Str(data, "qr") is { } qr)
                {
                    var first = Interlocked.Increment(ref _qrCount) == 1;
                    var expires = now + (first ? _options.FirstQrLifetime : _options.NextQrLifetime);
                    Enqueue(() => EmitAsync(new QrCodeEvent(InstanceId, now, qr, expires)));
                }
                break;
            case "pairing_code":
                // Additive bridge event: the code it requested itself when `open` carried a pairingPhone.
                if (BridgeProcess.Str(data, "code") is { } code)
                    Enqueue(() => EmitAsync(new PairingCodeEvent(InstanceId, now, code)));
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
                Enqueue(() => EmitAsync(new UndecryptableMessageEvent(InstanceId, now, messageId, error)));
                break;
            }
            case "receipt":
                if (BaileysMessageMapper.MapReceipt(InstanceId, now, data) is { } receipt)
                    Enqueue(() => EmitAsync(receipt));
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
                    Enqueue(() => EmitAsync(new LidMappingEvent(InstanceId, now, bare[..^"@lid".Length], phone)));
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
                _connected = true;
                Interlocked.Exchange(ref _qrCount, 0);
                var me = data.TryGetProperty("me", out var m) ? m : default;
                var phone = BaileysMessageMapper.PhoneOf(BridgeProcess.Str(me, "id")) ?? "";
                var name = BridgeProcess.Str(me, "name");
                Enqueue(async () =>
                {
                    // The marker tells the host this instance has credentials to resume with; the state itself is in the auth store.
                    await _context.Credentials.SaveAsync(JsonSerializer.Serialize(new { engine = BaileysEngine.EngineName, phone, pushName = name }));
                    await EmitAsync(new ConnectedEvent(InstanceId, now, phone, name));
                });
                break;
            }
            case "close":
            {
                var wasConnected = _connected;
                _connected = false;
                _socketOpen = false;
                var outcome = BaileysMessageMapper.MapClose(data.TryGetProperty("reason", out var r) ? r : default);
                var qrShown = Volatile.Read(ref _qrCount) > 0;
                if (_credentialsUnreadable)
                    ReportCredentialsUnreadable(now);
                else if (outcome.LoggedOut)
                {
                    _wantOpen = false;
                    Enqueue(async () =>
                    {
                        await ForgetAuthStateAsync(CancellationToken.None);
                        await EmitAsync(new LoggedOutEvent(InstanceId, now, outcome.Reason));
                    });
                }
                else if (outcome.Transient && outcome.StatusCode == 408 && qrShown && !wasConnected)
                {
                    // Baileys gives up after its QR codes expire (timedOut): asking again would show QR codes forever.
                    _wantOpen = false;
                    Enqueue(() => EmitAsync(new PairingExpiredEvent(InstanceId, now, $"QR code not scanned after {Volatile.Read(ref _qrCount)} codes")));
                }
                else
                {
                    if (!outcome.Transient)
                        _wantOpen = false;
                    var bannedUntil = outcome.BannedFor is { } bannedFor ? now + bannedFor : (DateTimeOffset?)null;
                    Enqueue(() => EmitAsync(new DisconnectedEvent(InstanceId, now, outcome.Reason, outcome.Transient) { BannedUntil = bannedUntil, Detail = outcome.Detail }));
                }
                break;
            }
        }
    }

    /// <summary>
    /// A final state, reported once (the bridge's close and the failed open both lead here): not logged out, since the
    /// credentials are intact and readable again once the key ring is restored; reconnecting would fail the same way.
    /// </summary>
    private void ReportCredentialsUnreadable(DateTimeOffset now)
    {
        _wantOpen = false;
        if (Interlocked.Exchange(ref _unreadableReported, 1) == 0)
            Enqueue(() => EmitAsync(new DisconnectedEvent(InstanceId, now, CredentialsUnreadable, Transient: false)));
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
                var path = _supervisor.MediaFolder.CheckInbound(BridgeProcess.Str(m, "path"), BridgeProcess.Str(m, "sha256"));
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
        Enqueue(() => EmitAsync(new MessageReceivedEvent(InstanceId, now, message)));
        if (!followUp && MessageUpdateEvent.For(InstanceId, now, message) is { } update)
            Enqueue(() => EmitAsync(update));
    }

    public async Task<JsonObject> OnAuthCallAsync(string op, JsonElement parameters, CancellationToken ct)
    {
        // Sent message content is not auth state: it needs no ordering with key writes.
        if (op is "store_message" or "get_message")
            return await OnSentMessageCallAsync(op, parameters, ct);
        // A closed session's socket may still flush keys while it ends; the instance may be open elsewhere by now.
        if (_disposed && op is not "load_creds" and not "get_keys")
            throw new BridgeException("session_closed", $"the session is closed; {op} refused");
        await _authGate.WaitAsync(ct);
        try
        {
            return await AnswerAuthCallAsync(op, parameters, ct);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            // The Data Protection key ring that encrypted the auth state is gone: retrying cannot help.
            _credentialsUnreadable = true;
            _logger.LogError("The auth state of {Instance} cannot be decrypted ({Error}); restore the key ring or pair again", InstanceId, e.Message);
            throw new BridgeException("credentials_unreadable", CredentialsUnreadable);
        }
        finally
        {
            _authGate.Release();
        }
    }

    /// <summary><c>store_message</c> keeps what a send encoded (before the send is reported done); <c>get_message</c> serves resends.</summary>
    private async Task<JsonObject> OnSentMessageCallAsync(string op, JsonElement parameters, CancellationToken ct)
    {
        var id = BridgeProcess.Str(parameters, "id") ?? throw new BridgeException("invalid_params", $"{op} needs an id");
        if (op == "store_message")
        {
            var content = BridgeProcess.Str(parameters, "content") ?? throw new BridgeException("invalid_params", "store_message needs the content");
            if (_context.SentMessages is { } store)
                await store.SaveAsync(id, BridgeProcess.Str(parameters, "remoteJid") ?? "", Convert.FromBase64String(content), ct);
            return [];
        }
        var stored = _context.SentMessages is { } source ? await source.GetAsync(id, ct) : null;
        if (stored is null)
            _logger.LogInformation("A resend of {MessageId} on {Instance} was asked for, but its content is not stored (any more)", id, InstanceId);
        return new JsonObject { ["content"] = stored is null ? null : Convert.ToBase64String(stored) };
    }

    private async Task<JsonObject> AnswerAuthCallAsync(string op, JsonElement parameters, CancellationToken ct)
    {
        switch (op)
        {
            case "load_creds":
            {
                var values = await _auth.GetAsync(BaileysAuthCategories.Creds, [BaileysAuthCategories.CredsKey], ct);
                return new JsonObject { ["creds"] = values.GetValueOrDefault(BaileysAuthCategories.CredsKey) };
            }
            case "save_creds":
                await _auth.SetAsync([new EngineAuthChange(BaileysAuthCategories.Creds, BaileysAuthCategories.CredsKey, Opaque(parameters, "creds"))], ct);
                return [];
            case "get_keys":
            {
                var category = BridgeProcess.Str(parameters, "category") ?? throw new BridgeException("invalid_params", "get_keys needs a category");
                var ids = parameters.TryGetProperty("ids", out var list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.String ? i.GetString()! : i.GetRawText()).ToList()
                    : [];
                var values = await _auth.GetAsync(category, ids, ct);
                var result = new JsonObject();
                foreach (var id in ids)
                    result[id] = values.GetValueOrDefault(id);
                return new JsonObject { ["values"] = result };
            }
            case "set_keys":
            {
                var changes = new List<EngineAuthChange>();
                if (parameters.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
                    foreach (var category in data.EnumerateObject())
                        if (category.Value.ValueKind == JsonValueKind.Object)
                            foreach (var entry in category.Value.EnumerateObject())
                                changes.Add(new EngineAuthChange(category.Name, entry.Name, OpaqueValue(entry.Value)));
                await _auth.SetAsync(changes, ct);
                return [];
            }
            case "clear":
                await ForgetAuthStateAsync(ct);
                return [];
            default:
                throw new BridgeException("unknown_op", $"the host does not know the auth operation '{op}'");
        }
    }

    // Values are opaque strings; anything else is kept as its JSON text rather than refused.
    private static string? Opaque(JsonElement parameters, string name) =>
        parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty(name, out var value) ? OpaqueValue(value) : null;

    private static string? OpaqueValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => value.GetRawText(),
    };

    // ---- ordered hand-over to the host ----

    private void Enqueue(Func<Task> work) => _outbox.Writer.TryWrite(work);

    private Task EnqueueAndWaitAsync(Func<Task> work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_outbox.Writer.TryWrite(async () =>
            {
                try { await work(); }
                finally { done.TrySetResult(); }
            }))
            return work();
        return done.Task;
    }

    private async Task PumpAsync()
    {
        await foreach (var work in _outbox.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Handing a Baileys event of {Instance} to the host failed", InstanceId);
            }
        }
    }

    private async Task EmitAsync(EngineEvent e)
    {
        if (_disposed)
            return;
        await _context.Events.OnEventAsync(e);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        _wantOpen = false;
        _connected = false;
        _outbox.Writer.TryComplete();
        // An open in flight ends first, so no socket is left open for a session that is gone.
        await _lifetime.CancelAsync();
        var gated = await _openGate.WaitAsync(TimeSpan.FromSeconds(10));
        if (_process is { } process)
        {
            _process = null;
            if (process.IsAlive && _socketOpen)
            {
                try
                {
                    await process.RequestAsync("close", new JsonObject { ["session"] = InstanceId }, CancellationToken.None, TimeSpan.FromSeconds(5));
                }
                catch (BridgeException e)
                {
                    _logger.LogDebug("Closing Baileys session {Instance} failed: {Error}", InstanceId, e.Message);
                }
            }
            _socketOpen = false;
            await _supervisor.ReleaseAsync(this, process);
        }
        if (gated)
            _openGate.Release();
    }

    /// <summary>Auth state kept in memory, for hosts that give the session no store.</summary>
    private sealed class MemoryAuthStore : IEngineAuthStore
    {
        private readonly ConcurrentDictionary<(string, string), string> _values = new();

        public Task<IReadOnlyDictionary<string, string?>> GetAsync(string category, IReadOnlyCollection<string> keyIds, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyDictionary<string, string?>>(keyIds.Distinct().ToDictionary(id => id, id => _values.GetValueOrDefault((category, id))));

        public Task SetAsync(IReadOnlyCollection<EngineAuthChange> changes, CancellationToken ct = default)
        {
            foreach (var c in changes)
                if (c.Value is null) _values.TryRemove((c.Category, c.KeyId), out _);
                else _values[(c.Category, c.KeyId)] = c.Value;
            return Task.CompletedTask;
        }

        public Task ClearAsync(CancellationToken ct = default)
        {
            _values.Clear();
            return Task.CompletedTask;
        }
    }
}

/// <summary>How Baileys' auth state is laid out in the store: creds under one key, signal keys by their own category.</summary>
internal static class BaileysAuthCategories
{
    public const string Creds = "creds";
    public const string CredsKey = "creds";
}
