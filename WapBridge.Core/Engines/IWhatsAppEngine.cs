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

    IEngineSession CreateSession(EngineSessionContext context);
}

/// <summary>What a session needs from its host: who it is, where events go, where credentials live.</summary>
public sealed record EngineSessionContext(string InstanceId, IEngineEventSink Events, IEngineCredentialStore Credentials);

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

public interface IEngineSession : IAsyncDisposable
{
    string InstanceId { get; }

    /// <summary>Connects with stored credentials, or starts pairing (QR events) when there are none.</summary>
    Task ConnectAsync(CancellationToken ct = default);

    /// <summary>Sends with the caller's message id; sending the same id twice delivers once.</summary>
    Task<EngineSendResult> SendAsync(OutgoingMessage message, CancellationToken ct = default);

    /// <summary>Asks for an 8-character code to type on the phone instead of scanning the QR.</summary>
    Task<string> RequestPairingCodeAsync(string phoneNumber, CancellationToken ct = default);

    /// <summary>Shows "typing…" to the recipient for a moment before a send; engines that cannot, do nothing.</summary>
    Task SendTypingAsync(string toPhone, CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>Unlinks the device and forgets the credentials.</summary>
    Task LogoutAsync(CancellationToken ct = default);
}
