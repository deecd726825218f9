using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// One WhatsApp linked device on a bridge process: its lifecycle (open, reopen after a bridge crash, logout, close)
/// and the requests the host makes of it. The bridge's events are translated by <see cref="BaileysEventTranslator"/>,
/// its auth-state calls answered by <see cref="BaileysAuthBridge"/>; both hand engine events over through one
/// <see cref="BaileysEventOutbox"/>, so the host sees them in order.
/// </summary>
internal sealed class BaileysSession : IEngineSession, IEngineGroups, IBridgeSessionHandler
{
    private readonly BaileysSupervisor _supervisor;
    private readonly BaileysOptions _options;
    private readonly EngineSessionContext _context;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BaileysSessionState _state = new();
    private readonly BaileysEventOutbox _outbox;
    private readonly BaileysAuthBridge _auth;
    private readonly BaileysEventTranslator _events;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();

    private volatile BridgeProcess? _process;

    public BaileysSession(BaileysSupervisor supervisor, BaileysOptions options, EngineSessionContext context, TimeProvider time, ILogger logger)
    {
        _supervisor = supervisor;
        _options = options;
        _context = context;
        _time = time;
        _logger = logger;
        _outbox = new BaileysEventOutbox(context.Events, _state, context.InstanceId, logger);
        _auth = new BaileysAuthBridge(context, _state, logger);
        _events = new BaileysEventTranslator(context.InstanceId, _state, _outbox, _auth, context.Credentials, supervisor.MediaFolder, options, time, logger);
    }

    public string InstanceId => _context.InstanceId;

    /// <summary>The bridge process this session is on, if any (tests, diagnostics).</summary>
    internal BridgeProcess? Process => _process;

    internal bool IsConnected => _state.Connected;

    /// <summary>
    /// Starts opening and returns: starting a bridge can take seconds, and the outcome arrives as events anyway
    /// (QR, connected, or a transient disconnect naming why the bridge could not open the session).
    /// </summary>
    public Task ConnectAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_state.Disposed, this);
        _state.WantOpen = true;
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
            if (_auth.CredentialsUnreadable)
                _events.ReportCredentialsUnreadable(_time.GetUtcNow());
            else if (!_state.Disposed && _state.WantOpen)
                _outbox.Emit(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), "could not open the WhatsApp session: " + e.Message, Transient: true));
        }
    }

    /// <summary>Opens the socket on a live bridge process unless it is open already (the supervisor and the host may both ask).</summary>
    private async Task OpenAsync(CancellationToken ct)
    {
        await _openGate.WaitAsync(ct);
        try
        {
            if (_state.Disposed || !_state.WantOpen)
                return;
            if (_state.SocketOpen && _process is { IsAlive: true })
                return;
            var process = await _supervisor.AcquireAsync(this, ct);
            _process = process;
            _events.ResetQrCount();
            var parameters = new JsonObject { ["session"] = InstanceId };
            if (!string.IsNullOrWhiteSpace(_options.WebSocketUrl))
                parameters["webSocketUrl"] = _options.WebSocketUrl.Trim();
            if (_options.ParsedWaVersion() is { } version)
                parameters["waVersion"] = new JsonArray(version.Select(v => (JsonNode?)v).ToArray());
            if (_options.ParsedBrowser() is { } browser)
                parameters["browser"] = new JsonArray(browser.Select(b => (JsonNode?)b).ToArray());
            // Marked open before asking: a close reported while the request is in flight must win.
            _state.SocketOpen = true;
            try
            {
                await process.RequestAsync("open", parameters, ct);
            }
            catch
            {
                _state.SocketOpen = false;
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
        _state.SocketOpen = false;
        _state.Connected = false;
        if (_state.WantOpen && !_state.Disposed)
            _outbox.Emit(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), reason, Transient: true));
    }

    /// <summary>Called by the supervisor once it may start a new process: reopens this session if it still wants to be open.</summary>
    internal async Task ReopenAfterBridgeLossAsync(CancellationToken ct)
    {
        if (!_state.WantOpen || _state.Disposed)
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
            _outbox.Emit(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), "the WhatsApp bridge could not be restarted: " + e.Message, Transient: true));
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
        _state.WantOpen = false;
        _logger.LogError("Baileys session {Instance} not opened: {Error}", InstanceId, e.Message);
        if (!_state.Disposed)
            _outbox.Emit(new DisconnectedEvent(InstanceId, _time.GetUtcNow(), e.Message, Transient: false));
    }

    public async Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || !_state.Connected)
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
            if (message.Content is { } content)
            {
                BaileysConversationContent.AddContent(parameters, content);
            }
            else if (message.Media is { } media)
            {
                // The bridge reads the file itself (streamed into Baileys): media never travels in a protocol line.
                var (path, temporary) = await _supervisor.MediaFolder.OutboundPathAsync(media, ct);
                if (temporary)
                    temporaryFile = path;
                parameters["media"] = new JsonObject
                {
                    ["kind"] = BaileysSendPath.MediaKind(media.MimeType),
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
            if (message.Mentions is { Count: > 0 } mentions && BaileysConversationContent.TakesMentions(message.Content))
                parameters["mentions"] = BaileysConversationContent.Mentions(mentions);
            if (message.Quoted is { } quote && BaileysConversationContent.TakesQuote(message.Content))
                parameters["quoted"] = BaileysConversationContent.Quoted(quote, await QuotedContentAsync(quote, ct));
            await process.RequestAsync("send", parameters, ct);
            return EngineSendResult.Ok;
        }
        catch (BridgeException e)
        {
            return BaileysSendPath.SendFailure(e);
        }
        finally
        {
            if (temporaryFile is not null)
                BridgeMediaFolder.TryDelete(temporaryFile);
        }
    }

    /// <summary>
    /// What the contact's reply bubble shows of the quoted message: our own send as Baileys encoded it (media
    /// included), else its text; null leaves it to the bridge (its own store, or a bare link to the message).
    /// </summary>
    private async Task<byte[]?> QuotedContentAsync(EngineQuote quote, CancellationToken ct)
    {
        if (quote.Key.FromMe && _context.SentMessages is { } store)
        {
            try
            {
                if (await store.GetAsync(quote.Key.Id, ct) is { Length: > 0 } sent)
                    return sent;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning("The quoted message {MessageId} of {Instance} could not be read: {Error}", quote.Key.Id, InstanceId, e.Message);
            }
        }
        return string.IsNullOrEmpty(quote.Text) ? null : BaileysConversationContent.ConversationProto(quote.Text);
    }

    public Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys, CancellationToken ct = default) =>
        CallAsync("read", EngineFeatures.ReadReceipts,
            new JsonObject { ["keys"] = new JsonArray(keys.Select(k => (JsonNode?)BaileysConversationContent.ReadKey(k)).ToArray()) }, ct);

    /// <summary>
    /// Shows the presence, and asks for the contact's own (<c>subscribe</c>): WhatsApp sends a contact's presence
    /// only to devices that asked, as WhatsApp Web does when a chat is opened.
    /// </summary>
    public async Task SendPresenceAsync(string toJid, string state, CancellationToken ct = default)
    {
        await CallAsync("presence", EngineFeatures.Presence, new JsonObject { ["to"] = toJid, ["state"] = state }, ct);
        if (toJid.EndsWith("@g.us", StringComparison.Ordinal))
            return;
        try
        {
            await CallAsync("subscribe", EngineFeatures.Presence, new JsonObject { ["to"] = toJid }, ct);
        }
        catch (EngineException e)
        {
            _logger.LogDebug("Presence subscription of {Instance} to {Jid} failed: {Error}", InstanceId, toJid, e.Message);
        }
    }

    public Task DeleteForMeAsync(EngineMessageKey key, DateTimeOffset sentAt, CancellationToken ct = default) =>
        CallAsync("delete_for_me", EngineFeatures.DeleteForMe,
            new JsonObject { ["key"] = BaileysConversationContent.Key(key), ["timestamp"] = sentAt.ToUnixTimeSeconds() }, ct);

    /// <summary>
    /// A request that is not a send: refused (a <see cref="BridgeException"/>, an engine exception) when the session is
    /// not connected or the bridge says no; a bridge too old for it cannot do <paramref name="feature"/>.
    /// </summary>
    private async Task CallAsync(string method, string feature, JsonObject parameters, CancellationToken ct)
    {
        if (_process is not { IsAlive: true } process || !_state.Connected)
            throw new EngineSessionStateException("not_connected", "The WhatsApp session is not connected.");
        parameters["session"] = InstanceId;
        try
        {
            await process.RequestAsync(method, parameters, ct);
        }
        catch (BridgeException e) when (e.Code == "unknown_method")
        {
            throw new EngineFeatureUnavailableException(feature);
        }
    }

    public bool ChecksNumbers => true;

    public async Task<NumberCheckResult?> CheckNumberAsync(string phone, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || !_state.Connected)
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
        return BaileysGroupMapper.MapNumberCheck(result);
    }

    /// <summary>The most numbers one <c>check_numbers</c> request takes (the bridge refuses more).</summary>
    private const int MaxNumbersPerCheck = 500;

    /// <summary>
    /// One <c>check_numbers</c> request per 500 numbers; a bridge without it (older than issue 19) is asked number by
    /// number with <c>check_number</c>, as before.
    /// </summary>
    public async Task<IReadOnlyList<NumberCheckResult?>> CheckNumbersAsync(IReadOnlyList<string> phones, CancellationToken ct = default)
    {
        var answers = new List<NumberCheckResult?>(phones.Count);
        foreach (var chunk in phones.Chunk(MaxNumbersPerCheck))
        {
            if (_process is not { IsAlive: true } process || !_state.Connected)
                throw new BridgeException("not_connected", "The WhatsApp session is not connected.");
            try
            {
                var result = await process.RequestAsync("check_numbers",
                    new JsonObject { ["session"] = InstanceId, ["phones"] = new JsonArray(chunk.Select(p => (JsonNode?)p).ToArray()) }, ct);
                answers.AddRange(BaileysGroupMapper.MapNumberChecks(result, chunk));
            }
            catch (BridgeException e) when (e.Code == "unknown_method")
            {
                foreach (var phone in chunk)
                    answers.Add(await CheckNumberAsync(phone, ct));
            }
        }
        return answers;
    }

    public async Task<EngineProfile> GetProfileAsync(string user, CancellationToken ct = default)
    {
        var result = await EngineCallAsync("profile", EngineFeatures.Profiles, new JsonObject { ["jid"] = BaileysGroupMapper.ParticipantJid(user) }, ct);
        return BaileysGroupMapper.MapProfile(result, user, _events.PhoneForLid);
    }

    // ---- groups (IEngineGroups): PROTOCOL.md "Contacts and groups (issue 19)" ----

    public async Task<IReadOnlyList<EngineGroup>> ListGroupsAsync(CancellationToken ct = default)
    {
        var result = await EngineCallAsync("group_list", EngineFeatures.Groups, [], ct);
        return result.TryGetProperty("groups", out var groups) && groups.ValueKind == JsonValueKind.Array
            ? groups.EnumerateArray().Select(g => BaileysGroupMapper.MapGroup(g, _events.PhoneForLid)).OfType<EngineGroup>().ToList()
            : [];
    }

    public async Task<EngineGroup> GetGroupAsync(string groupJid, CancellationToken ct = default) =>
        Group(await EngineCallAsync("group_metadata", EngineFeatures.Groups, new JsonObject { ["id"] = groupJid }, ct));

    public async Task<EngineGroup> CreateGroupAsync(string subject, IReadOnlyList<string> participants, CancellationToken ct = default) =>
        Group(await EngineCallAsync("group_create", EngineFeatures.Groups,
            new JsonObject { ["subject"] = subject, ["participants"] = Participants(participants) }, ct));

    public async Task<IReadOnlyList<EngineParticipantOutcome>> UpdateParticipantsAsync(string groupJid, string action, IReadOnlyList<string> participants,
        CancellationToken ct = default)
    {
        var result = await EngineCallAsync("group_participants", EngineFeatures.Groups,
            new JsonObject { ["id"] = groupJid, ["action"] = action, ["participants"] = Participants(participants) }, ct);
        return BaileysGroupMapper.MapParticipantResults(result, participants);
    }

    public Task UpdateGroupAsync(string groupJid, EngineGroupChange change, CancellationToken ct = default)
    {
        if (change.IsEmpty)
            return Task.CompletedTask;
        var parameters = new JsonObject { ["id"] = groupJid };
        if (change.Subject is not null)
            parameters["subject"] = change.Subject;
        if (change.Description is not null)
            parameters["description"] = change.Description;
        if (change.Announce is { } announce)
            parameters["announce"] = announce;
        if (change.Restrict is { } restrict)
            parameters["restrict"] = restrict;
        return EngineCallAsync("group_update", EngineFeatures.Groups, parameters, ct);
    }

    public async Task<string> GetInviteCodeAsync(string groupJid, CancellationToken ct = default) =>
        InviteCode(await EngineCallAsync("group_invite_code", EngineFeatures.Groups, new JsonObject { ["id"] = groupJid }, ct));

    public async Task<string> RevokeInviteCodeAsync(string groupJid, CancellationToken ct = default) =>
        InviteCode(await EngineCallAsync("group_revoke_invite", EngineFeatures.Groups, new JsonObject { ["id"] = groupJid }, ct));

    public async Task<string> JoinGroupAsync(string inviteCode, CancellationToken ct = default) =>
        BridgeProcess.Str(await EngineCallAsync("group_accept_invite", EngineFeatures.Groups, new JsonObject { ["code"] = inviteCode }, ct), "id")
        ?? throw new EngineRefusedException("join_failed", "WhatsApp accepted the invite but named no group.");

    public Task LeaveGroupAsync(string groupJid, CancellationToken ct = default) =>
        EngineCallAsync("group_leave", EngineFeatures.Groups, new JsonObject { ["id"] = groupJid }, ct);

    private EngineGroup Group(JsonElement result) =>
        (result.TryGetProperty("group", out var group) ? BaileysGroupMapper.MapGroup(group, _events.PhoneForLid) : null)
        ?? throw new BridgeException("internal", "The WhatsApp bridge answered without the group's metadata.");

    private static string InviteCode(JsonElement result) =>
        BridgeProcess.Str(result, "code") ?? throw new BridgeException("internal", "The WhatsApp bridge answered without an invite code.");

    private static JsonArray Participants(IReadOnlyList<string> participants) =>
        new(participants.Select(p => (JsonNode?)BaileysGroupMapper.ParticipantJid(p)).ToArray());

    /// <summary>
    /// A contacts or groups request, its refusals in engine terms: <c>not_found</c> → <see cref="EngineNotFoundException"/>,
    /// <c>refused</c> → <see cref="EngineRefusedException"/>, a bridge too old for it → <paramref name="feature"/> unavailable.
    /// </summary>
    private async Task<JsonElement> EngineCallAsync(string method, string feature, JsonObject parameters, CancellationToken ct)
    {
        if (_process is not { IsAlive: true } process || !_state.Connected)
            throw new EngineSessionStateException("not_connected", "The WhatsApp session is not connected.");
        parameters["session"] = InstanceId;
        try
        {
            return await process.RequestAsync(method, parameters, ct);
        }
        catch (BridgeException e)
        {
            throw e.Code switch
            {
                "unknown_method" => new EngineFeatureUnavailableException(feature),
                "not_found" => new EngineNotFoundException("not_found", e.Message),
                "refused" => new EngineRefusedException("refused", e.Message),
                "not_connected" => new EngineSessionStateException("not_connected", e.Message),
                _ => e,
            };
        }
    }

    public async Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || _state.Connected)
            throw new EngineSessionStateException("not_pairing",
                _state.Connected ? "The instance is already connected." : "The instance is not waiting to be paired; restart it first.");
        JsonElement result;
        try
        {
            result = await process.RequestAsync("pairing_code", new JsonObject { ["session"] = InstanceId, ["phone"] = phoneNumber }, ct);
        }
        catch (BridgeException e)
        {
            throw new EngineRefusedException("pairing_failed", "WhatsApp did not issue a pairing code: " + e.Message);
        }
        var code = BridgeProcess.Str(result, "code") ?? throw new EngineRefusedException("pairing_failed", "The bridge answered without a pairing code.");
        await _outbox.EnqueueAndWaitAsync(() => _outbox.EmitAsync(new PairingCodeEvent(InstanceId, _time.GetUtcNow(), code)));
        return code;
    }

    public async Task SendTypingAsync(string toPhone, CancellationToken ct = default)
    {
        if (_process is not { IsAlive: true } process || !_state.Connected)
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
        _state.WantOpen = false;
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
        _state.Connected = false;
        _state.SocketOpen = false;
        await _auth.ForgetAsync(ct);
        // Waited for: the host closes the session right after, and must have recorded the logout first.
        await _outbox.EnqueueAndWaitAsync(() => _outbox.EmitAsync(new LoggedOutEvent(InstanceId, _time.GetUtcNow(), "logged out")));
    }

    // ---- bridge → session ----

    public void OnBridgeEvent(string eventName, JsonElement data) => _events.OnEvent(eventName, data);

    public Task<JsonObject> OnAuthCallAsync(string op, JsonElement parameters, CancellationToken ct) => _auth.OnAuthCallAsync(op, parameters, ct);

    public async ValueTask DisposeAsync()
    {
        if (_state.Disposed)
            return;
        _state.Disposed = true;
        _state.WantOpen = false;
        _state.Connected = false;
        _outbox.Complete();
        // An open in flight ends first, so no socket is left open for a session that is gone.
        await _lifetime.CancelAsync();
        var gated = await _openGate.WaitAsync(TimeSpan.FromSeconds(10));
        if (_process is { } process)
        {
            _process = null;
            if (process.IsAlive && _state.SocketOpen)
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
            _state.SocketOpen = false;
            await _supervisor.ReleaseAsync(this, process);
        }
        if (gated)
            _openGate.Release();
    }

}
