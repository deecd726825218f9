namespace WapBridge.Bench;

public enum BenchMode { Send, Webhooks, Campaigns, Erpnext, LargeBody, Failover, MetricsOverhead }

/// <summary>Command-line flags.</summary>
public sealed record BenchOptions
{
    public int Clients { get; init; } = 64;
    public int Seconds { get; init; } = 15;
    public int Warmup { get; init; } = 20;
    public bool SkipBaseline { get; init; }
    public bool BaselineUnlocked { get; init; }
    public double? MemoryMinutes { get; init; }
    public int DrainTimeoutSeconds { get; init; } = 120;
    public string? GatewayDll { get; init; }
    public bool KeepData { get; init; }
    public BenchMode Mode { get; init; } = BenchMode.Send;
    public int WebhookBacklog { get; init; } = 100_000;
    public int RetrySeconds { get; init; } = 30;
    public int BacklogDrainTimeoutSeconds { get; init; } = 300;
    public int CampaignRecipients { get; init; } = 100_000;
    public int StatusCalls { get; init; } = 2_000;
    public int RunnerSeconds { get; init; } = 20;
    public int ErpnextRequests { get; init; } = 2_000;
    public int ErpnextSenders { get; init; } = 8;
    public int OfferedRate { get; init; } = 2_000;
    public int InjectBatch { get; init; } = 20;
    public int OfferedSeconds { get; init; } = 10;
    public int OfferedWarmup { get; init; } = 3;
    public int MediaMegabytes { get; init; } = 100;
    public int Concurrent { get; init; } = 1;
    public int FailoverInstances { get; init; } = 30;
    public int Runs { get; init; } = 3;
    public string? Postgres { get; init; }

    /// <summary>The flags given on the command line, for modes whose defaults differ from the send benchmark's.</summary>
    public IReadOnlySet<string> Given { get; init; } = new HashSet<string>();

    /// <summary>Measured seconds of the gateway run: --seconds, or --memory-minutes × 60 in memory mode.</summary>
    public int GatewaySeconds => MemoryMinutes is { } m ? (int)Math.Max(1, Math.Round(m * 60)) : Seconds;

    public const string Usage = """
        WapBridge benchmark: send_api_message throughput and latency, outbox throughput, gateway memory, and a bare ASP.NET Core + SQLite baseline.

        usage: dotnet run -c Release --project bench/WapBridge.Bench [-- options]

          --clients N          concurrent HTTP clients (default 64)
          --offered-rate N     then an open-loop phase: N requests a second on a fixed schedule, latency from each scheduled start (default 2000)
          --offered-seconds N  length of the open-loop phase (default 10; 0 skips it)
          --offered-warmup N   seconds of that schedule run first and not counted (default 3)
          --seconds N          measured seconds (default 15)
          --warmup N           warm-up seconds before measuring (default 20: the JIT tiers the hot paths up for that long under load)
          --memory-minutes N   memory mode: drive the gateway for N minutes (fractions allowed) and print the RSS timeline
          --drain-timeout N    longest wait for the outbox to empty after the load (default 120 s)
          --skip-baseline      do not run the bare minimal-API baseline
          --baseline-unlocked  baseline without its in-process write lock (writers race; shows Microsoft.Data.Sqlite's busy sleeps)
          --gateway-dll PATH   gateway to start (default WapBridge.Web/bin/<Configuration>/net10.0/WapBridge.Web.dll)
          --keep-data          keep the gateway's temporary data folder (database) for inspection

        modes (instead of the default send benchmark; each starts its own gateway):
          --webhooks           inbound_message at full speed → message webhooks to a loopback receiver (uses --clients, --warmup, --seconds, --drain-timeout)
            --inject-batch N       messages per simulator call (default 20, through inbound_messages; 1 = one inbound_message call each)
            --webhook-backlog N    then N messages while the receiver answers 503, memory while the backlog grows, and the drain (default 100000; 0 skips)
            --retry-seconds N      webhook retry schedule after the first 5 s retry (default 30)
            --backlog-drain-timeout N  longest wait for the backlog to drain once the receiver is back (default 300 s)
          --campaigns          one campaign of --recipients N (default 100000) in one create_and_start_campaign, with Hangfire on
            --recipients N         campaign size
            --status-calls N       sequential campaign_status calls for the latency figure (default 2000)
            --runner-seconds N     how long to watch the runner (default 20)
          --erpnext            erpnext_notification_gateway as ERPNext sends it (form body, token auth), sequential then concurrent
            --requests N           requests per phase (default 2000)
            --senders N            concurrent senders in the second phase (default 8)
          --large-body         gateway memory for one big media send (base64 document in JSON send_api_message)
            --media-mb N           document size in MB (default 100)
            --concurrent N         sends at once (default 1)
          --metrics-overhead   gateway CPU per accepted message with metrics off and on, interleaved runs (off, on, …), against the 5 % target
            --runs N               pairs of runs (default 3: off, on, off, on, off, on)
            --offered-rate N       fixed open-loop load of every run (default 200/s here)
            --warmup N / --seconds N   warm-up and measured seconds of every run (default 15 / 30 here)
          --failover           3 nodes on PostgreSQL, kill -9 of the busiest: time until its instances are connected on the others
            --instances N          simulator instances spread over the nodes (default 30)
            --runs N               kills measured, each on a fresh database (default 3)
            --postgres CONN        server to create the databases on (default: TEST_POSTGRES_CONNECTION)
          -h, --help           this text
        """;

    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions();
        var given = new HashSet<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var flag = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt(int min)
            {
                var name = args[i];
                var v = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture);
                return v >= min ? v : throw new ArgumentException($"{name} must be at least {min}");
            }
            switch (args[i])
            {
                case "--clients": o = o with { Clients = NextInt(1) }; break;
                case "--offered-rate": o = o with { OfferedRate = NextInt(1) }; break;
                case "--inject-batch": o = o with { InjectBatch = NextInt(1) }; break;
                case "--offered-seconds": o = o with { OfferedSeconds = NextInt(0) }; break;
                case "--offered-warmup": o = o with { OfferedWarmup = NextInt(0) }; break;
                case "--seconds": o = o with { Seconds = NextInt(1) }; break;
                case "--warmup": o = o with { Warmup = NextInt(0) }; break;
                case "--memory-minutes":
                    var m = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture);
                    o = o with { MemoryMinutes = m > 0 ? m : throw new ArgumentException("--memory-minutes must be positive") };
                    break;
                case "--drain-timeout": o = o with { DrainTimeoutSeconds = NextInt(1) }; break;
                case "--skip-baseline": o = o with { SkipBaseline = true }; break;
                case "--baseline-unlocked": o = o with { BaselineUnlocked = true }; break;
                case "--gateway-dll": o = o with { GatewayDll = Next() }; break;
                case "--keep-data": o = o with { KeepData = true }; break;
                case "--webhooks": o = o with { Mode = BenchMode.Webhooks }; break;
                case "--webhook-backlog": o = o with { WebhookBacklog = NextInt(0) }; break;
                case "--retry-seconds": o = o with { RetrySeconds = NextInt(1) }; break;
                case "--backlog-drain-timeout": o = o with { BacklogDrainTimeoutSeconds = NextInt(1) }; break;
                case "--campaigns": o = o with { Mode = BenchMode.Campaigns }; break;
                case "--recipients": o = o with { CampaignRecipients = NextInt(1) }; break;
                case "--status-calls": o = o with { StatusCalls = NextInt(1) }; break;
                case "--runner-seconds": o = o with { RunnerSeconds = NextInt(1) }; break;
                case "--erpnext": o = o with { Mode = BenchMode.Erpnext }; break;
                case "--requests": o = o with { ErpnextRequests = NextInt(1) }; break;
                case "--senders": o = o with { ErpnextSenders = NextInt(1) }; break;
                case "--large-body": o = o with { Mode = BenchMode.LargeBody }; break;
                case "--media-mb": o = o with { MediaMegabytes = NextInt(1) }; break;
                case "--concurrent": o = o with { Concurrent = NextInt(1) }; break;
                case "--failover": o = o with { Mode = BenchMode.Failover }; break;
                case "--metrics-overhead": o = o with { Mode = BenchMode.MetricsOverhead }; break;
                case "--instances": o = o with { FailoverInstances = NextInt(3) }; break;
                case "--runs": o = o with { Runs = NextInt(1) }; break;
                case "--postgres": o = o with { Postgres = Next() }; break;
                case "-h" or "--help": return null;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
            given.Add(flag);
        }
        return o with { Given = given };
    }
}
