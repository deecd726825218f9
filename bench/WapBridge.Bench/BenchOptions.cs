namespace WapBridge.Bench;

/// <summary>Command-line flags.</summary>
public sealed record BenchOptions
{
    public int Clients { get; init; } = 64;
    public int Seconds { get; init; } = 15;
    public int Warmup { get; init; } = 3;
    public bool SkipBaseline { get; init; }
    public bool BaselineUnlocked { get; init; }
    public double? MemoryMinutes { get; init; }
    public int DrainTimeoutSeconds { get; init; } = 120;
    public string? GatewayDll { get; init; }
    public bool KeepData { get; init; }

    /// <summary>Measured seconds of the gateway run: --seconds, or --memory-minutes × 60 in memory mode.</summary>
    public int GatewaySeconds => MemoryMinutes is { } m ? (int)Math.Max(1, Math.Round(m * 60)) : Seconds;

    public const string Usage = """
        WapBridge benchmark: send_api_message throughput and latency, outbox throughput, gateway memory, and a bare ASP.NET Core + SQLite baseline.

        usage: dotnet run -c Release --project bench/WapBridge.Bench [-- options]

          --clients N          concurrent HTTP clients (default 64)
          --seconds N          measured seconds (default 15)
          --warmup N           warm-up seconds before measuring (default 3)
          --memory-minutes N   memory mode: drive the gateway for N minutes (fractions allowed) and print the RSS timeline
          --drain-timeout N    longest wait for the outbox to empty after the load (default 120 s)
          --skip-baseline      do not run the bare minimal-API baseline
          --baseline-unlocked  baseline without its in-process write lock (writers race; shows Microsoft.Data.Sqlite's busy sleeps)
          --gateway-dll PATH   gateway to start (default WapBridge.Web/bin/<Configuration>/net10.0/WapBridge.Web.dll)
          --keep-data          keep the gateway's temporary data folder (database) for inspection
          -h, --help           this text
        """;

    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
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
                case "-h" or "--help": return null;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return o;
    }
}
