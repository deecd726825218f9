using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Where the bridge is and whether it can run here: Node.js 20+ (asked once with <c>node --version</c>), the
/// <c>baileys-bridge</c> folder and its installed packages. Answers why not, with the fix, when it cannot.
/// </summary>
internal sealed class BaileysRuntime(IOptions<BaileysOptions> options, IHostEnvironment? environment, ILogger<BaileysRuntime> logger)
{
    public const int MinimumNodeMajor = 20;
    private const string FolderName = "baileys-bridge";

    private readonly Lazy<string?> _unavailable = new(() => CheckAvailability(options.Value, environment, logger));
    private readonly Lazy<BridgeMediaFolder> _mediaFolder = new(() =>
    {
        var folder = new BridgeMediaFolder(options.Value.DataDirectory ?? Path.Combine(Path.GetTempPath(), "wapbridge"));
        folder.CleanLeftovers(logger);
        return folder;
    });

    /// <summary>Where media files are exchanged with the bridge; emptied of a crash's leftovers before the first bridge starts.</summary>
    public BridgeMediaFolder MediaFolder => _mediaFolder.Value;

    /// <summary>Null when the bridge can be started; otherwise why not and how to fix it.</summary>
    public string? UnavailableReason => _unavailable.Value;

    /// <summary>The bridge folder in use (configured or found), or null.</summary>
    public string? BridgeDirectory => ResolveBridgeDirectory(options.Value, environment);

    public BridgeCommand Command()
    {
        var o = options.Value;
        var script = o.BridgeScript is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(BridgeDirectory ?? throw new BridgeException("not_installed", UnavailableReason ?? "the baileys-bridge folder was not found"), "src", "main.js");
        var environmentVariables = new Dictionary<string, string>(o.Environment)
        {
            ["WAPBRIDGE_BRIDGE_MAX_SESSIONS"] = Math.Max(1, o.SessionsPerProcess).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WAPBRIDGE_BRIDGE_MAX_LINE_BYTES"] = Math.Max(1024, o.MaxLineBytes).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WAPBRIDGE_BRIDGE_DATA_DIR"] = MediaFolder.DataDirectory,
            ["WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS"] = Math.Max(100, (long)o.StatsInterval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        environmentVariables.TryAdd("WAPBRIDGE_BRIDGE_LOG_LEVEL", "info");
        var heapLimit = "--max-old-space-size=" + o.EffectiveNodeHeapLimitMb().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new BridgeCommand(o.NodePath, [heapLimit, script], Path.GetDirectoryName(script)!, environmentVariables);
    }

    private static string? CheckAvailability(BaileysOptions o, IHostEnvironment? environment, ILogger logger)
    {
        if (!o.Enabled)
            return $"The WhatsApp (QR) engine is disabled ({BaileysOptions.Section}:Enabled=false).";

        var (major, version, error) = NodeVersion(o.NodePath);
        if (error is not null)
        {
            logger.LogWarning("Baileys engine unavailable: {Reason}", error);
            return error;
        }
        if (major < MinimumNodeMajor)
            return $"The WhatsApp (QR) engine needs Node.js {MinimumNodeMajor} or newer; '{o.NodePath}' is {version}. Install Node.js {MinimumNodeMajor}+ or point {BaileysOptions.Section}:NodePath at it.";

        if (o.BridgeScript is { Length: > 0 } script)
            return File.Exists(script) ? null : $"The bridge script {script} ({BaileysOptions.Section}:BridgeScript) does not exist.";

        var directory = ResolveBridgeDirectory(o, environment);
        if (directory is null)
            return $"The {FolderName} folder was not found next to WapBridge; set {BaileysOptions.Section}:BridgeDirectory to where it is.";
        if (!File.Exists(Path.Combine(directory, "src", "main.js")))
            return $"{Path.Combine(directory, "src", "main.js")} is missing: the {FolderName} folder is incomplete.";
        if (!Directory.Exists(Path.Combine(directory, "node_modules")))
            return $"The bridge's packages are not installed: run 'npm ci' in {directory} (building WapBridge.Web does it when npm is on PATH).";
        logger.LogInformation("Baileys engine available: Node.js {Version}, bridge in {Directory}", version, directory);
        return null;
    }

    private static (int Major, string? Version, string? Error) NodeVersion(string nodePath)
    {
        var notFound = $"The WhatsApp (QR) engine needs Node.js {MinimumNodeMajor} or newer, and '{nodePath}' was not found. Install Node.js {MinimumNodeMajor}+ or set {BaileysOptions.Section}:NodePath.";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(nodePath, "--version")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
                return (0, null, notFound);
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                return (0, null, $"'{nodePath} --version' did not answer within 10 s; check the Node.js installation.");
            }
            var version = output.Result.Trim();
            var digits = version.TrimStart('v', 'V').Split('.')[0];
            return int.TryParse(digits, out var major)
                ? (major, version, null)
                : (0, version, $"'{nodePath} --version' answered '{version}', which is not a Node.js version.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (0, null, notFound);
        }
    }

    private static string? ResolveBridgeDirectory(BaileysOptions o, IHostEnvironment? environment)
    {
        if (o.BridgeDirectory is { Length: > 0 } configured)
            return Directory.Exists(configured) ? Path.GetFullPath(configured) : null;
        var starts = new[] { AppContext.BaseDirectory, environment?.ContentRootPath, Directory.GetCurrentDirectory() };
        foreach (var start in starts.OfType<string>())
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, FolderName);
                if (File.Exists(Path.Combine(candidate, "package.json")))
                    return candidate;
            }
        }
        return null;
    }
}
