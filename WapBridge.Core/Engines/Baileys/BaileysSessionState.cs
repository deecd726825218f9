namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Where one Baileys session stands, shared by its lifecycle (<see cref="BaileysSession"/>) and the translation of
/// the bridge's events (<see cref="BaileysEventTranslator"/>): a close event ends what an open started.
/// </summary>
internal sealed class BaileysSessionState
{
    private volatile bool _wantOpen;
    private volatile bool _socketOpen;
    private volatile bool _connected;
    private volatile bool _disposed;

    /// <summary>The host wants the session open: a transient close or a bridge crash reopens it.</summary>
    public bool WantOpen { get => _wantOpen; set => _wantOpen = value; }

    /// <summary>The bridge was asked to open the socket and has not reported it closed.</summary>
    public bool SocketOpen { get => _socketOpen; set => _socketOpen = value; }

    /// <summary>WhatsApp accepted the login (<c>connection</c> <c>open</c>).</summary>
    public bool Connected { get => _connected; set => _connected = value; }

    public bool Disposed { get => _disposed; set => _disposed = value; }
}
