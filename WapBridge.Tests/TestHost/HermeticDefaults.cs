namespace WapBridge.Tests.TestHost;

/// <summary>
/// What every test host sets so that nothing under test reaches the internet: the real engines aim at a closed
/// loopback port (9, "discard": nothing listens there, so a connect is refused at once), and the Node.js processes
/// the hosts start (Baileys bridges) run under the bridge's network guard.
/// </summary>
public static class HermeticDefaults
{
    public const string BaileysWebSocketUrl = "ws://127.0.0.1:9/ws";
    public const string CloudApiGraphBaseUrl = "http://127.0.0.1:9/";

    /// <summary>The bridge folder: <c>baileys-bridge/src/main.js</c> above the test assembly, else <c>WAPBRIDGE_BRIDGE_DIR</c>.</summary>
    public static string? BridgeDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "baileys-bridge");
            if (File.Exists(Path.Combine(candidate, "src", "main.js")))
                return candidate;
        }
        return Environment.GetEnvironmentVariable("WAPBRIDGE_BRIDGE_DIR") is { Length: > 0 } configured && Directory.Exists(configured) ? configured : null;
    }

    /// <summary><c>NODE_OPTIONS</c> that preload <c>baileys-bridge/test-support/no-network.js</c>; null without the bridge folder.</summary>
    public static string? NodeOptions()
    {
        var guard = BridgeDirectory() is { } directory ? Path.Combine(directory, "test-support", "no-network.js") : null;
        return guard is not null && File.Exists(guard) ? "--import=" + new Uri(Path.GetFullPath(guard)).AbsoluteUri : null;
    }

    /// <summary>The settings above, for a host's configuration (tests' own settings override them).</summary>
    public static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:WebSocketUrl"] = BaileysWebSocketUrl,
            ["WapBridge:Engines:CloudApi:GraphBaseUrl"] = CloudApiGraphBaseUrl,
        };
        if (NodeOptions() is { } nodeOptions)
            settings["WapBridge:Engines:Baileys:Environment:NODE_OPTIONS"] = nodeOptions;
        return settings;
    }
}
