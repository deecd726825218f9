namespace WapBridge.Core.Engines.Baileys;

/// <summary>Section <c>WapBridge:Engines:Baileys</c>: the WhatsApp multi-device engine over the Node.js bridge.</summary>
public sealed class BaileysOptions
{
    public const string Section = "WapBridge:Engines:Baileys";

    public bool Enabled { get; set; } = true;

    /// <summary>The Node.js executable (20 or newer): a name on PATH or a full path.</summary>
    public string NodePath { get; set; } = "node";

    /// <summary>The <c>baileys-bridge</c> folder; default: found next to the app or above its content root.</summary>
    public string? BridgeDirectory { get; set; }

    /// <summary>
    /// The script node runs; default <c>src/main.js</c> in <see cref="BridgeDirectory"/>. When set, the bridge's
    /// packages are not checked (tests run a fake bridge this way).
    /// </summary>
    public string? BridgeScript { get; set; }

    /// <summary>Extra environment variables for the bridge process.</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    /// <summary>
    /// Sessions one bridge process serves before another is started. An idle session costs about 2 MB on the fake
    /// WhatsApp server (a real account more: Signal sessions, app state, caches), but the sessions of a process share
    /// one event loop and one crash, and media in flight needs room: 25 keeps both small.
    /// </summary>
    public int SessionsPerProcess { get; set; } = 25;

    /// <summary>
    /// The V8 heap limit of a bridge process in MB (node's <c>--max-old-space-size</c>); default
    /// <see cref="BaseHeapMb"/> plus <see cref="HeapMbPerSession"/> per session of <see cref="SessionsPerProcess"/>, so a
    /// leak ends in a restart of that process instead of swapping the machine.
    /// </summary>
    public int? NodeHeapLimitMb { get; set; }

    /// <summary>Node, Baileys and a media download or two in flight (base64 on the heap until the protocol streams).</summary>
    public const int BaseHeapMb = 256;

    public const int HeapMbPerSession = 16;

    public int EffectiveNodeHeapLimitMb() => NodeHeapLimitMb is > 0 and var limit ? limit : BaseHeapMb + HeapMbPerSession * Math.Max(1, SessionsPerProcess);

    /// <summary>
    /// Where Baileys opens its WebSocket (a <c>ws://</c> or <c>wss://</c> URL); default: WhatsApp's own address.
    /// Tests point it at a closed loopback port so that no test ever reaches WhatsApp.
    /// </summary>
    public string? WebSocketUrl { get; set; }

    /// <summary>
    /// Pins the WhatsApp Web version Baileys announces, e.g. <c>2.3000.1023223821</c>; default: the one the Baileys
    /// package ships with. Set it when WhatsApp rejects the connection as outdated (close code 405).
    /// </summary>
    public string? WaVersion { get; set; }

    /// <summary>
    /// How the linked device appears on the phone: operating system, browser, version. The default is Baileys'
    /// <c>Browsers.ubuntu('Chrome')</c>, an ordinary desktop browser, rather than a name that announces a gateway.
    /// </summary>
    public string? Browser { get; set; } = "Ubuntu,Chrome,22.04.4";

    /// <summary>How long the bridge has to print <c>ready</c> after starting.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request (open, send, …) waits for the bridge's answer.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait before a bridge process that died is started again; doubles per quick crash.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between restarts of a crashing bridge.</summary>
    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A process that ran this long before dying counts as healthy: the next restart waits <see cref="RestartDelay"/> again.</summary>
    public TimeSpan HealthyRunTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Lifetime of the first QR code (Baileys rotates it itself; this is what the API reports).</summary>
    public TimeSpan FirstQrLifetime { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan NextQrLifetime { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long the content of sent messages is kept to answer resend requests (WhatsApp's <c>getMessage</c>).</summary>
    public TimeSpan SentMessageRetention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// The longest protocol line either side accepts (the bridge gets it as <c>WAPBRIDGE_BRIDGE_MAX_LINE_BYTES</c>);
    /// longer ones are refused with <c>line_too_long</c>. Media travels as files, so lines are small; raw messages
    /// with their thumbnails fit well within the default 4 MiB.
    /// </summary>
    public int MaxLineBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How often each bridge process reports its memory and event-loop lag (the bridge gets it as
    /// <c>WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS</c>); the bridge metrics are that old at most. At least 100 ms.
    /// </summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The folder media files are exchanged with the bridge in: the host's data folder (<c>WapBridge:DataDir</c>),
    /// set by the host. The host hands over and accepts only paths inside it.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary><see cref="WaVersion"/> as the bridge wants it: <c>[2, 3000, 1023223821]</c>; null when unset or malformed.</summary>
    public int[]? ParsedWaVersion()
    {
        if (string.IsNullOrWhiteSpace(WaVersion))
            return null;
        var parts = WaVersion.Trim().Split('.', ',');
        var numbers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i].Trim(), out numbers[i]))
                return null;
        return numbers.Length == 3 ? numbers : null;
    }

    public string[]? ParsedBrowser()
    {
        if (string.IsNullOrWhiteSpace(Browser))
            return null;
        var parts = Browser.Split(',', StringSplitOptions.TrimEntries);
        return parts.Length == 3 ? parts : null;
    }
}
