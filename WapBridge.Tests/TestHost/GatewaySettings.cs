using System.Globalization;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// How a test starts a real WapBridge process (<see cref="GatewayProcess"/>): a free loopback port, an admin token and
/// the <c>WAPBRIDGE_*</c> variables, built up from what the test needs (fast recovery after kills, a node of a
/// PostgreSQL cluster) plus its own settings. Start it as often as the test restarts it: the same port and token.
/// </summary>
public sealed class GatewaySettings
{
    private readonly Dictionary<string, string> _environment;

    public GatewaySettings(string? adminToken = null)
    {
        Port = GatewayProcess.FreePort();
        AdminToken = adminToken ?? GatewayProcess.NewAdminToken();
        _environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}",
            ["WAPBRIDGE_ADMIN_TOKEN"] = AdminToken,
        };
    }

    public int Port { get; }
    public Uri Address => new($"http://127.0.0.1:{Port}/");
    public string AdminToken { get; }
    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <summary>Sets (or overrides) environment variables; the last value of a name wins.</summary>
    public GatewaySettings Set(IEnumerable<KeyValuePair<string, string>> settings)
    {
        foreach (var (name, value) in settings)
            _environment[name] = value;
        return this;
    }

    public GatewaySettings Set(string name, string value) => Set([new(name, value)]);

    /// <summary>
    /// For tests that kill processes and wait for what was accepted to finish: no API rate limit, the outbox, campaign
    /// and job sweeps every fraction of a second, a simulator that sends and acknowledges within milliseconds, and
    /// webhook claims and retries short enough that a killed process's deliveries are due again within seconds.
    /// </summary>
    public GatewaySettings WithFastRecovery() => Set(new Dictionary<string, string>
    {
        ["WAPBRIDGE_Api__RateLimit__Enabled"] = "false",
        ["WAPBRIDGE_Messaging__SweepInterval"] = "00:00:00.500",
        // Short, but not zero: a campaign's sends stay in flight across kills.
        ["WAPBRIDGE_Engines__Simulator__SendLatency"] = "00:00:00.010",
        ["WAPBRIDGE_Engines__Simulator__DeliveredAfter"] = "00:00:00.100",
        ["WAPBRIDGE_Engines__Simulator__ReadAfter"] = "00:00:00.300",
        ["WAPBRIDGE_Campaigns__SweepInterval"] = "00:00:01",
        ["WAPBRIDGE_Hangfire__QueuePollInterval"] = "00:00:00.200",
        ["WAPBRIDGE_Webhooks__AllowLoopbackTargets"] = "true",
        // A delivery claimed by a killed process is due again when its claim runs out: keep claims short.
        ["WAPBRIDGE_Webhooks__AttemptTimeout"] = "00:00:02",
        ["WAPBRIDGE_Webhooks__RetrySchedule__0"] = "00:00:01",
        ["WAPBRIDGE_Webhooks__RetrySchedule__1"] = "00:00:01",
        ["WAPBRIDGE_Webhooks__RetrySchedule__2"] = "00:00:02",
        ["WAPBRIDGE_Webhooks__RetrySchedule__3"] = "00:00:05",
    });

    /// <summary>A node of a cluster on one PostgreSQL database: its node id and silo ports of its own.</summary>
    public GatewaySettings AsClusterNode(string nodeId, string connectionString) => Set(new Dictionary<string, string>
    {
        ["WAPBRIDGE_Node__Id"] = nodeId,
        ["WAPBRIDGE_Database__Provider"] = "postgres",
        ["WAPBRIDGE_Database__ConnectionString"] = connectionString,
        ["WAPBRIDGE_Cluster__SiloPort"] = GatewayProcess.FreePort().ToString(CultureInfo.InvariantCulture),
        ["WAPBRIDGE_Cluster__GatewayPort"] = GatewayProcess.FreePort().ToString(CultureInfo.InvariantCulture),
    });

    public GatewayProcess Start(string dataDir) => GatewayProcess.Start(dataDir, Environment);

    /// <summary>An HTTP client of the process's address, without a proxy; <paramref name="authorization"/> empty: none.</summary>
    public HttpClient Client(string authorization, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = Address, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        if (authorization.Length > 0)
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        return client;
    }
}
