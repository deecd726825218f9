using System.Diagnostics;
using System.Net;

namespace WapBridge.Bench;

/// <summary>
/// <c>--metrics-overhead</c>: what metrics cost the gateway. Runs alternate between a gateway started with
/// <c>WAPBRIDGE_Telemetry__Metrics=false</c> and one with <c>true</c> whose <c>/metrics</c> is scraped every 15 s with the
/// admin token, as Prometheus would; each run offers the same open-loop load of <c>send_api_message</c> and measures the
/// gateway's CPU time (utime + stime) in the measured window ÷ the messages accepted in it. Throughput alone varies
/// more than 5 % between runs on a shared machine; CPU per message at a fixed load, compared by medians over
/// interleaved runs, does not drift with whatever else the machine is doing at the time as much.
/// </summary>
public sealed class MetricsOverheadMode(BenchOptions o)
{
    private const double TargetOverheadPercent = 5;
    private static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(15);
    private const int MaxInFlight = 512;

    private sealed record Run(int Number, bool Metrics, long Accepted, long Errors, long Skipped, double CpuSeconds, double WindowSeconds,
        double P99Ms, int Scrapes, int ScrapeFailures, long ScrapeBytes, string Load)
    {
        public double MicrosecondsPerMessage => Accepted == 0 ? double.NaN : CpuSeconds * 1e6 / Accepted;
    }

    public async Task<int> RunAsync(string dll)
    {
        var rate = o.Given.Contains("--offered-rate") ? o.OfferedRate : 200;
        var warmup = o.Given.Contains("--warmup") ? o.Warmup : 15;
        var seconds = o.Given.Contains("--seconds") ? o.Seconds : 30;
        Console.WriteLine($"WapBridge benchmark, metrics overhead: {o.Runs} pairs of runs (off, on, …), send_api_message at {rate:N0}/s offered "
            + $"(open loop), {warmup} s warm-up + {seconds} s measured each; {Environment.ProcessorCount} cores, .NET {Environment.Version}, "
            + $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Report.Load()}");

        var runs = new List<Run>();
        for (var i = 0; i < o.Runs * 2; i++)
        {
            var metrics = i % 2 == 1;
            var run = await MeasureAsync(dll, i + 1, metrics, rate, warmup, seconds);
            runs.Add(run);
        }
        Print(runs, rate, warmup, seconds);
        return 0;
    }

    private async Task<Run> MeasureAsync(string dll, int number, bool metrics, int rate, int warmup, int seconds)
    {
        Console.Write($"run {number} (metrics {(metrics ? "on" : "off")}): starting gateway… ");
        await using var gateway = await Gateway.StartAsync(dll, o.KeepData, new Dictionary<string, string>
        {
            ["WAPBRIDGE_Telemetry__Metrics"] = metrics ? "true" : "false",
        });
        BenchRun.Running = gateway;
        var (authorization, instanceId) = await gateway.SetUpSenderAsync();

        using var scraper = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        scraper.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + gateway.AdminToken);
        // A run must measure the setting it claims: /metrics answers 404 when metrics are off.
        using (var probe = await scraper.GetAsync(new Uri("metrics", UriKind.Relative)))
        {
            var expected = metrics ? HttpStatusCode.OK : HttpStatusCode.NotFound;
            if (probe.StatusCode != expected)
                throw new InvalidOperationException($"/metrics answered {(int)probe.StatusCode} with Metrics={metrics}; expected {(int)expected}");
        }
        Console.Write($"pid {gateway.Pid}; {rate:N0}/s for {warmup} + {seconds} s… ");

        using var stopScraping = new CancellationTokenSource();
        int scrapes = 0, failures = 0;
        long bytes = 0;
        // From the start of the warm-up, so that every measured window holds scrapes as a Prometheus server's would.
        var scraping = metrics ? Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(ScrapeInterval);
            try
            {
                do
                {
                    try
                    {
                        using var response = await scraper.GetAsync(new Uri("metrics", UriKind.Relative), stopScraping.Token);
                        var body = await response.Content.ReadAsByteArrayAsync(stopScraping.Token);
                        if (response.StatusCode == HttpStatusCode.OK) { scrapes++; bytes = body.Length; }
                        else failures++;
                    }
                    catch (HttpRequestException)
                    {
                        failures++;
                    }
                }
                while (await timer.WaitForNextTickAsync(stopScraping.Token));
            }
            catch (OperationCanceledException) when (stopScraping.IsCancellationRequested)
            {
            }
        }) : Task.CompletedTask;

        using var client = LoadGenerator.CreateClient(MaxInFlight);
        var generator = new LoadGenerator(client, new Uri(gateway.BaseAddress, "api/method/wap_bridge.api.whatsapp.send_api_message"), authorization, instanceId);
        TimeSpan cpuStart = default, cpuEnd = default;
        long windowStart = 0, windowEnd = 0;
        var result = await generator.RunOpenLoopAsync(rate, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(seconds), MaxInFlight,
            onWindowStart: () => { cpuStart = gateway.ProcCpuTime(); windowStart = Stopwatch.GetTimestamp(); },
            onWindowEnd: () => { cpuEnd = gateway.ProcCpuTime(); windowEnd = Stopwatch.GetTimestamp(); });
        await stopScraping.CancelAsync();
        await scraping;

        var run = new Run(number, metrics, result.Accepted, result.Errors, result.Skipped, (cpuEnd - cpuStart).TotalSeconds,
            Stopwatch.GetElapsedTime(windowStart, windowEnd).TotalSeconds, result.Percentile(99), scrapes, failures, bytes, Report.Load());
        Console.WriteLine($"{run.Accepted:N0} accepted, {run.MicrosecondsPerMessage:N0} µs CPU each");
        BenchRun.Running = null;
        if (o.KeepData) Console.WriteLine($"data kept in {gateway.DataDir}");
        return run;
    }

    private static void Print(IReadOnlyList<Run> runs, int rate, int warmup, int seconds)
    {
        Console.WriteLine();
        Console.WriteLine($"METRICS OVERHEAD  gateway CPU (utime + stime) per accepted message at {rate:N0}/s offered, {warmup} s warm-up + {seconds} s measured ({Report.Load()})");
        Console.WriteLine("    run  metrics  accepted  errors  not started  CPU s   cores  µs/msg  p99 ms  scrapes (size)   load average");
        foreach (var r in runs)
        {
            var scrapes = r.Metrics ? $"{r.Scrapes}{(r.ScrapeFailures > 0 ? $"+{r.ScrapeFailures} failed" : "")} ({r.ScrapeBytes / 1024.0:0} KB)" : "-";
            Console.WriteLine($"    {r.Number,-5}{(r.Metrics ? "on" : "off"),-9}{r.Accepted,-10:N0}{r.Errors,-8:N0}{r.Skipped,-13:N0}{r.CpuSeconds,-8:0.00}"
                + $"{r.CpuSeconds / r.WindowSeconds,-7:0.00}{r.MicrosecondsPerMessage,-8:N0}{r.P99Ms,-8:0.0}{scrapes,-17}{r.Load.Replace("load average ", "")}");
        }

        var off = Median(runs.Where(r => !r.Metrics).Select(r => r.MicrosecondsPerMessage));
        var on = Median(runs.Where(r => r.Metrics).Select(r => r.MicrosecondsPerMessage));
        var overhead = (on - off) / off * 100;
        // Each "on" run against the "off" run just before it: drift of the machine's load between pairs cancels out.
        var paired = Median(runs.Where(r => r.Metrics).Select(r =>
        {
            var before = runs.Single(b => b.Number == r.Number - 1);
            return (r.MicrosecondsPerMessage - before.MicrosecondsPerMessage) / before.MicrosecondsPerMessage * 100;
        }));
        var clean = runs.All(r => r.Errors == 0 && r.Skipped == 0 && r.Accepted > 0) && runs.Where(r => r.Metrics).All(r => r.Scrapes > 0);
        Console.WriteLine();
        Report.Row("median µs CPU / message, metrics off", $"{off:N1}");
        Report.Row("median µs CPU / message, metrics on", $"{on:N1}");
        Report.Row("overhead (medians)", $"{overhead:+0.0;-0.0} %", $"≤ {TargetOverheadPercent:0} %",
            Report.Verdict(overhead <= TargetOverheadPercent && clean));
        Report.Row("  paired: median of (on vs the off before)", $"{paired:+0.0;-0.0} %");
        if (!clean)
            Console.WriteLine("    (a run had errors, requests not started, no accepted message or no successful scrape: the verdict is MISS)");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
