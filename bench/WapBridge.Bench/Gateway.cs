using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace WapBridge.Bench;

/// <summary>The gateway as a separate process on a loopback port, with its own temporary data folder.</summary>
public sealed class Gateway : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly bool _keepData;

    public Uri BaseAddress { get; }
    public string DataDir { get; }
    public string AdminToken { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public string DatabasePath => Path.Combine(DataDir, "wapbridge.db");
    public bool HasExited => _process.HasExited;

    private Gateway(Process process, StreamWriter log, Uri baseAddress, string dataDir, string adminToken, string logPath, bool keepData)
    {
        _process = process;
        _log = log;
        BaseAddress = baseAddress;
        DataDir = dataDir;
        AdminToken = adminToken;
        LogPath = logPath;
        _keepData = keepData;
    }

    /// <summary>WapBridge.Web.dll built next to this benchmark (same Configuration), found from the repository root.</summary>
    public static string LocateDll(string? explicitPath)
    {
        if (explicitPath is not null)
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new FileNotFoundException("gateway not found", explicitPath);
        var configuration = typeof(Gateway).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "BuildConfiguration")?.Value ?? "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "WapBridge.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "WapBridge.Web", "bin", configuration, "net10.0", "WapBridge.Web.dll");
            return File.Exists(dll) ? dll
                : throw new FileNotFoundException($"{dll} is missing: build it with `dotnet build -c {configuration} WapBridge.Web` (dotnet run of the benchmark does).");
        }
        throw new DirectoryNotFoundException("WapBridge.sln not found above " + AppContext.BaseDirectory + "; pass --gateway-dll");
    }

    /// <summary>A free loopback port chosen by the OS (never 5080 or 5181, which other tools use here).</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port is not (5080 or 5181))
                return port;
        }
    }

    public static async Task<Gateway> StartAsync(string dll, bool keepData, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var port = FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var logPath = Path.Combine(dataDir, "gateway.log");

        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        var env = psi.Environment;
        env["WAPBRIDGE_DATA_DIR"] = dataDir;
        env["WAPBRIDGE_ADMIN_TOKEN"] = token;
        env["WAPBRIDGE_Engines__Simulator__SendLatency"] = "00:00:00";
        env["WAPBRIDGE_Messaging__InstanceMessagesPerSecond"] = "0";
        env["WAPBRIDGE_Api__RateLimit__Enabled"] = "false";
        env["WAPBRIDGE_Hangfire__ServerEnabled"] = "false";
        // The benchmarks message thousands of made-up numbers from freshly paired instances: measure the sending, not the
        // new-contact budget that would hold all but the day's first few.
        env["WAPBRIDGE_Health__WarmUp__0"] = "10000000";
        env["WAPBRIDGE_Health__WarmedUpDailyNewContacts"] = "10000000";
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["Logging__LogLevel__Default"] = "Warning";
        // Its one line per campaign tells where a create spent its time.
        env["Logging__LogLevel__WapBridge.Core.Campaigns.CampaignService"] = "Information";
        foreach (var (name, value) in extraEnvironment ?? new Dictionary<string, string>())
            env[name] = value;
        env.Remove("ASPNETCORE_URLS");
        env.Remove("DOTNET_URLS");

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        if (!process.Start())
            throw new InvalidOperationException("could not start dotnet " + dll);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new Gateway(process, log, baseAddress, dataDir, token, logPath, keepData);

        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await gateway.DisposeAsync();
                throw new InvalidOperationException($"the gateway exited with code {process.ExitCode} before it was ready; log: {logPath}\n{Tail(logPath)}");
            }
            try
            {
                using var r = await probe.GetAsync("readyz");
                if (r.StatusCode == HttpStatusCode.OK) return gateway;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                await gateway.DisposeAsync();
                throw new TimeoutException("the gateway was not ready within 60 s; log tail:\n" + Tail(logPath));
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Customer, API key, simulator instance, scan_qr: returns (authorization header, instance id).</summary>
    public async Task<(string Authorization, string InstanceId)> SetUpSenderAsync()
    {
        using var admin = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        admin.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + AdminToken);
        var customer = (await CallAsync(admin, "wap_bridge.api.admin.create_customer", new { name = "Bench", email = "bench@example.com" }))["customer"]!.GetValue<string>();
        var key = await CallAsync(admin, "wap_bridge.api.admin.create_api_key", new { customer, label = "bench" });
        var authorization = $"token {key["api_key"]!.GetValue<string>()}:{key["api_secret"]!.GetValue<string>()}";

        using var api = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        var instanceId = (await CallAsync(api, "wap_bridge.api.instances.create_instance", new { engine = "simulator" }))["instance_id"]!.GetValue<string>();
        await CallAsync(api, "wap_bridge.api.simulator.scan_qr", new { instance_id = instanceId, phone_number = "255700000001" });

        // scan_qr connects the simulated phone; wait until instance_status says "connected".
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = (await CallAsync(api, "wap_bridge.api.instances.instance_status", new { instance_id = instanceId }))["status"]?.GetValue<string>();
            if (status == "connected")
                break;
            if (deadline.Elapsed > TimeSpan.FromSeconds(20))
                throw new TimeoutException($"instance {instanceId} did not connect (status {status})");
            await Task.Delay(100);
        }
        return (authorization, instanceId);
    }

    /// <summary>POST <c>api/method/{method}</c> with a JSON body; answers the Frappe <c>message</c>, throws on anything but 200.</summary>
    public static async Task<JsonNode> CallAsync(HttpClient client, string method, object args) =>
        (await CallAsync(client, method, args, allowFailure: false))!;

    /// <summary>An HTTP client for set-up and control calls on the gateway, with the customer's Authorization header.</summary>
    public HttpClient ApiClient(string authorization, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        return client;
    }

    private static async Task<JsonNode?> CallAsync(HttpClient client, string method, object args, bool allowFailure)
    {
        using var response = await client.PostAsJsonAsync("api/method/" + method, args);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
            return allowFailure ? null : throw new InvalidOperationException($"{method}: HTTP {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)?["message"] ?? throw new InvalidOperationException($"{method}: no message in {text}");
    }

    /// <summary>kill -9 (SIGKILL): no shutdown hooks, no graceful stop; the data folder stays until <see cref="DisposeAsync"/>.</summary>
    public async Task KillAsync()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>VmRSS of the gateway process, in bytes (0 once it has exited).</summary>
    public long ResidentBytes() => ProcStatus.VmRssBytes(_process.Id);

    /// <summary>utime + stime of the gateway from /proc/&lt;pid&gt;/stat (what <see cref="CpuTime"/> reads too).</summary>
    public TimeSpan ProcCpuTime() => ProcStatus.CpuTime(_process.Id);

    public TimeSpan CpuTime()
    {
        try { _process.Refresh(); return _process.TotalProcessorTime; }
        catch (InvalidOperationException) { return TimeSpan.Zero; }
    }

    public SqliteConnection OpenReadOnly()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        return connection;
    }

    public static string Tail(string path, int lines = 20)
    {
        try { return string.Join('\n', File.ReadLines(path).TakeLast(lines)); }
        catch (IOException) { return "(no log)"; }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
        }
        catch (InvalidOperationException) { }
        catch (TimeoutException) { }
        _process.Dispose();
        lock (_log) _log.Dispose();
        SqliteConnection.ClearAllPools();
        if (!_keepData)
            try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public static class ProcStatus
{
    /// <summary>VmRSS from /proc/&lt;pid&gt;/status, in bytes; 0 when unreadable.</summary>
    public static long VmRssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>utime + stime from /proc/&lt;pid&gt;/stat (fields 14 and 15, in clock ticks of 1/100 s); zero when unreadable.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return TimeSpan.Zero;
    }
}
