namespace WapBridge.Core.Engines;

/// <summary>
/// A way of talking to WhatsApp (simulator, Baileys, Cloud API). It opens one <see cref="IEngineSession"/>
/// per instance; nothing outside Engines/ knows which engine it talks to.
/// </summary>
public interface IWhatsAppEngine
{
    /// <summary><c>simulator</c>, <c>baileys</c> or <c>cloudapi</c>, as stored on the instance.</summary>
    string Name { get; }

    /// <summary>Null when the engine can be used; otherwise why not (shown in the dashboard).</summary>
    string? UnavailableReason { get; }

    bool SupportsPairingCode { get; }

    /// <summary>Whether the engine can do an optional feature (<see cref="EngineFeatures"/>); none until it opts in.</summary>
    bool Supports(string feature) => false;

    IEngineSession CreateSession(EngineSessionContext context);
}

/// <summary>
/// What a session needs from its host: who it is, where events go, where credentials live. Engines with a
/// large key-value auth state (Baileys: creds and signal keys) keep it in <see cref="AuthState"/>; a host
/// that has none leaves it null and the engine keeps its state in memory. <see cref="CustomerId"/> is the customer
/// owning the instance: the simulator keeps one network per customer, so one tenant never reaches another's numbers.
/// </summary>
public sealed record EngineSessionContext(string InstanceId, IEngineEventSink Events, IEngineCredentialStore Credentials, IEngineAuthStore? AuthState = null,
    int CustomerId = 0)
{
    /// <summary>Where the content of sent messages is kept for resends; null keeps nothing (no resend after a restart).</summary>
    public ISentMessageStore? SentMessages { get; init; }
}

/// <summary>
/// The content of sent messages as the engine encoded them, stored encrypted in the database so a recipient that
/// could not decrypt gets a resend after a reconnect, an engine or host restart, or from another node.
/// </summary>
public interface ISentMessageStore
{
    Task SaveAsync(string waMessageId, string remoteJid, byte[] content, CancellationToken ct = default);

    /// <summary>The stored content, or null when it is unknown or past its retention.</summary>
    Task<byte[]?> GetAsync(string waMessageId, CancellationToken ct = default);
}

public interface IEngineEventSink
{
    ValueTask OnEventAsync(EngineEvent engineEvent, CancellationToken ct = default);
}

/// <summary>
/// Persists a session's credentials (encrypted, in the database) so a restart or another node
/// resumes the session without a new scan.
/// </summary>
public interface IEngineCredentialStore
{
    Task<string?> LoadAsync(CancellationToken ct = default);
    Task SaveAsync(string? credentials, CancellationToken ct = default);
}

/// <summary>A change to an engine's auth state; a null <see cref="Value"/> deletes the entry.</summary>
public sealed record EngineAuthChange(string Category, string KeyId, string? Value);

/// <summary>
/// A session's auth state as opaque string values by (category, key id), stored encrypted in the database
/// so a restart or another node resumes without a new scan.
/// </summary>
public interface IEngineAuthStore
{
    /// <summary>The values of <paramref name="keyIds"/> in <paramref name="category"/>; missing keys map to null.</summary>
    Task<IReadOnlyDictionary<string, string?>> GetAsync(string category, IReadOnlyCollection<string> keyIds, CancellationToken ct = default);

    /// <summary>Applies the changes at once (all or none).</summary>
    Task SetAsync(IReadOnlyCollection<EngineAuthChange> changes, CancellationToken ct = default);

    /// <summary>Forgets everything (logged out).</summary>
    Task ClearAsync(CancellationToken ct = default);
}

public interface IEngineSession : IAsyncDisposable
{
    string InstanceId { get; }

    /// <summary>Connects with stored credentials, or starts pairing (QR events) when there are none.</summary>
    Task ConnectAsync(CancellationToken ct = default);

    /// <summary>Sends with the caller's message id; sending the same id twice delivers once.</summary>
    Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default);

    /// <summary>Asks for an 8-character code to type on the phone instead of scanning the QR.</summary>
    Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default);

    /// <summary>
    /// Asks WhatsApp whether a number is registered; null when the engine cannot tell (the send itself then
    /// reports <c>not_on_whatsapp</c>, or nothing). Throws when the session cannot ask right now.
    /// </summary>
    Task<NumberCheckResult?> CheckNumberAsync(string phone, CancellationToken ct = default) => Task.FromResult<NumberCheckResult?>(null);

    /// <summary>
    /// Asks WhatsApp about several numbers at once (<c>contacts.check_numbers</c>); one answer per number, in order,
    /// null where the engine cannot tell. Engines that can ask in one request override this.
    /// </summary>
    async Task<IReadOnlyList<NumberCheckResult?>> CheckNumbersAsync(IReadOnlyList<string> phones, CancellationToken ct = default)
    {
        var answers = new List<NumberCheckResult?>(phones.Count);
        foreach (var phone in phones)
            answers.Add(await CheckNumberAsync(phone, ct));
        return answers;
    }

    /// <summary>Whether <see cref="CheckNumberAsync"/> asks WhatsApp (then the outbox checks and caches numbers before sends).</summary>
    bool ChecksNumbers => false;

    /// <summary>Shows "typing…" to the recipient for a moment before a send; engines that cannot, do nothing.</summary>
    Task SendTypingAsync(string toPhone, CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>Marks received messages read (blue ticks for their senders).</summary>
    Task MarkReadAsync(IReadOnlyList<EngineMessageKey> keys, CancellationToken ct = default) =>
        throw new EngineFeatureUnavailableException(EngineFeatures.ReadReceipts);

    /// <summary>Shows a presence (<see cref="EnginePresence"/>) to <paramref name="toJid"/>, or to everyone for available/unavailable.</summary>
    Task SendPresenceAsync(string toJid, string state, CancellationToken ct = default) =>
        throw new EngineFeatureUnavailableException(EngineFeatures.Presence);

    /// <summary>Deletes a message from this device's copy of the chat only (<paramref name="sentAt"/>: its WhatsApp timestamp).</summary>
    Task DeleteForMeAsync(EngineMessageKey key, DateTimeOffset sentAt, CancellationToken ct = default) =>
        throw new EngineFeatureUnavailableException(EngineFeatures.DeleteForMe);

    /// <summary>
    /// A user's push name, about text and picture link (<paramref name="user"/>: phone digits, or <c>&lt;digits&gt;@lid</c>);
    /// <see cref="EngineNotFoundException"/> when the number is not on WhatsApp.
    /// </summary>
    Task<EngineProfile> GetProfileAsync(string user, CancellationToken ct = default) =>
        throw new EngineFeatureUnavailableException(EngineFeatures.Profiles);

    /// <summary>Unlinks the device and forgets the credentials.</summary>
    Task LogoutAsync(CancellationToken ct = default);
}
