using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// The gateway as it ships: <c>dotnet WapBridge.Web.dll</c> from WapBridge.Web's build output, a process of its own
/// with a data folder and a loopback port. Tests can kill it (SIGKILL) and start it again on the same folder and port.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    /// <summary>Variables that choose the listen address or configure WapBridge: never inherited from the test run.</summary>
    private static readonly string[] ListenVariables =
        ["ASPNETCORE_URLS", "DOTNET_URLS", "URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS", "HTTP_PORTS", "HTTPS_PORTS"];

    private readonly Process _process;
    private readonly StreamWriter _log;

    public string DataDir { get; }
    public string LogPath { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    private GatewayProcess(Process process, StreamWriter log, string dataDir, string logPath)
    {
        _process = process;
        _log = log;
        DataDir = dataDir;
        LogPath = logPath;
    }

    /// <summary>The folder of WapBridge.sln above the test output.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "WapBridge.sln")))
                    return dir.FullName;
            throw new DirectoryNotFoundException("WapBridge.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>WapBridge.Web.dll in WapBridge.Web's own build output, of the configuration these tests were built in.</summary>
    public static string WebDll
    {
        get
        {
            // The tests run from WapBridge.Tests/bin/<Configuration>/<framework>/.
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var dll = Path.Combine(RepositoryRoot, "WapBridge.Web", "bin", output.Parent!.Name, output.Name, "WapBridge.Web.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing: build WapBridge.Web first", dll);
        }
    }

    /// <summary>A loopback port that was free a moment ago (never 5080, the default other tools here use).</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port != 5080)
                return port;
        }
    }

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "wapbridge-tests", "process-" + Guid.NewGuid().ToString("N"));

    /// <summary>An admin token of the length the server requires.</summary>
    public static string NewAdminToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>
    /// Starts the gateway. Only <paramref name="environment"/> and <paramref name="arguments"/> configure it: inherited
    /// <c>WAPBRIDGE_*</c> and listen-address variables are removed. Output goes to <paramref name="logPath"/> (appended,
    /// so restarts on one data folder share one log). <paramref name="dll"/> runs another copy of the app (a published
    /// folder), from <paramref name="workingDirectory"/> (default: the app's folder).
    /// </summary>
    public static GatewayProcess Start(string dataDir, IReadOnlyDictionary<string, string> environment, IEnumerable<string>? arguments = null, string? logPath = null,
        string? dll = null, string? workingDirectory = null)
    {
        Directory.CreateDirectory(dataDir);
        logPath ??= Path.Combine(dataDir, "gateway.log");
        dll ??= WebDll;
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            // Content root = the app's folder, as when it is started from where it was published.
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var argument in arguments ?? [])
            psi.ArgumentList.Add(argument);
        foreach (var name in psi.Environment.Keys.ToList())
            if (name.StartsWith("WAPBRIDGE_", StringComparison.OrdinalIgnoreCase) || ListenVariables.Contains(name, StringComparer.OrdinalIgnoreCase))
                psi.Environment.Remove(name);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["WAPBRIDGE_DATA_DIR"] = dataDir;
        // Hermetic: the real engines never leave loopback (the Baileys engine is off as well).
        psi.Environment["WAPBRIDGE_Engines__Baileys__Enabled"] = "false";
        psi.Environment["WAPBRIDGE_Engines__Baileys__WebSocketUrl"] = "ws://127.0.0.1:9/ws";
        psi.Environment["WAPBRIDGE_Engines__CloudApi__GraphBaseUrl"] = "http://127.0.0.1:9/graph";
        foreach (var (name, value) in GenerousBudget.Environment())
            psi.Environment[name] = value;
        foreach (var (name, value) in environment)
            psi.Environment[name] = value;

        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        lock (log)
            log.WriteLine($"==== {DateTimeOffset.UtcNow:O} dotnet {string.Join(' ', psi.ArgumentList)}");
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        if (!process.Start())
            throw new InvalidOperationException("could not start dotnet " + dll);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new GatewayProcess(process, log, dataDir, logPath);
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
            return;
        lock (log)
            try { log.WriteLine(line); } catch (ObjectDisposedException) { }
    }

    /// <summary>Waits until <c>GET {baseAddress}healthz</c> answers 200; throws with the log's tail when the process exits or time runs out.</summary>
    public async Task WaitHealthyAsync(Uri baseAddress, TimeSpan? timeout = null)
    {
        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the gateway exited with code {_process.ExitCode} before /healthz answered at {baseAddress}; log tail:\n{Tail()}");
            try
            {
                using var response = await probe.GetAsync("healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (clock.Elapsed > limit)
                throw new TimeoutException($"/healthz did not answer at {baseAddress} within {limit.TotalSeconds:0} s; log tail:\n{Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>kill -9: no shutdown hooks, no flush, no graceful stop.</summary>
    public async Task KillAsync()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public string Tail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var all = new Queue<string>();
            while (reader.ReadLine() is { } line)
            {
                all.Enqueue(line);
                if (all.Count > lines)
                    all.Dequeue();
            }
            return string.Join('\n', all);
        }
        catch (IOException) { return "(no log)"; }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            try { await KillAsync(); } catch (TimeoutException) { }
        _process.Dispose();
        lock (_log)
            _log.Dispose();
    }
}
