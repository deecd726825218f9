using System.Diagnostics;
using System.Globalization;
using WapBridge.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

BenchOptions? options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (options is null)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

try
{
    return await new BenchRun(options).RunAsync();
}
catch (Exception e)
{
    Console.Error.WriteLine("benchmark aborted: " + e.Message);
    return 1;
}

namespace WapBridge.Bench
{
    /// <summary>One benchmark: gateway send load, outbox drain, memory, then the baseline; prints one screen.</summary>
    public sealed class BenchRun(BenchOptions o)
    {
        private const double TargetAcceptedPerSecond = 2000, TargetP99Ms = 50, TargetOutboxPerSecond = 1000;
        /// <summary>"Not growing": less than 1 MB of RSS per 10,000 messages sent (≈100 bytes a message) over the run's second half.</summary>
        private const double TargetMbPer10k = 1.0;

        /// <summary>The gateway being measured, killed on Ctrl+C.</summary>
        public static Gateway? Running;

        public async Task<int> RunAsync()
        {
            Console.CancelKeyPress += (_, e) =>
            {
                // Never leave the gateway process behind.
                Running?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            };

            var dll = Gateway.LocateDll(o.GatewayDll);
            switch (o.Mode)
            {
                case BenchMode.Webhooks: return await new WebhookMode(o).RunAsync(dll);
                case BenchMode.Campaigns: return await new CampaignMode(o).RunAsync(dll);
                case BenchMode.Erpnext: return await new ErpnextMode(o).RunAsync(dll);
                case BenchMode.LargeBody: return await new LargeBodyMode(o).RunAsync(dll);
                case BenchMode.Failover: return await new FailoverMode(o).RunAsync(dll);
                case BenchMode.MetricsOverhead: return await new MetricsOverheadMode(o).RunAsync(dll);
            }
            var gatewaySeconds = o.GatewaySeconds;
            Console.WriteLine($"WapBridge benchmark: {o.Clients} clients, {o.Warmup} s warm-up + {gatewaySeconds} s measured"
                + (o.MemoryMinutes is { } mm ? $" (memory mode, {mm:0.##} min)" : "")
                + $"; {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine($"gateway: {Path.GetRelativePath(Environment.CurrentDirectory, dll)}");

            var gatewayReport = await RunGatewayAsync(dll, gatewaySeconds);

            BaselineReport? baseline = null;
            if (!o.SkipBaseline)
                baseline = await RunBaselineAsync();

            Print(gatewayReport, baseline);
            return 0;
        }

        // ----------------------------------------------------------------- gateway

        private sealed record Counts(long Queued, long Sending, long Sent, long Failed, long Total, long At)
        {
            public long PastSending => Sent + Failed;
            public long Pending => Queued + Sending;
        }

        private sealed record Sample(double T, long Rss, long Accepted, long Sent);

        private sealed record GatewayReport(
            LoadResult Load, long RowsInDb, long MissingIds,
            Counts AtWindowStart, Counts AtLoadEnd, Counts AtDrainEnd, bool Drained, double DrainSeconds,
            double OutboxDuringLoad, double OutboxDrainRate, double OutboxOverall,
            List<Sample> Samples, double WindowStartT, double WindowEndT,
            double GatewayCores, double BenchCores, string LogPath, string? KeptDataDir, string LogTail, OpenLoopResult? OpenLoop);

        private async Task<GatewayReport> RunGatewayAsync(string dll, int seconds)
        {
            Console.Write("starting gateway… ");
            var startClock = Stopwatch.StartNew();
            await using var gateway = await Gateway.StartAsync(dll, o.KeepData);
            Running = gateway;
            var (authorization, instanceId) = await gateway.SetUpSenderAsync();
            Console.WriteLine($"pid {gateway.Pid} on {gateway.BaseAddress}, instance {instanceId} connected ({startClock.Elapsed.TotalSeconds:0.0} s)");

            using var probe = new DbProbe(gateway);
            using var client = LoadGenerator.CreateClient(o.Clients);
            var generator = new LoadGenerator(client, new Uri(gateway.BaseAddress, "api/method/wap_bridge.api.whatsapp.send_api_message"), authorization, instanceId);

            // Per-second samples of RSS, accepted and sent, from before the load until the outbox has drained.
            var clock = Stopwatch.StartNew();
            var samples = new List<Sample>();
            using var samplerStop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                do
                {
                    var counts = probe.Count();
                    lock (samples)
                        samples.Add(new Sample(clock.Elapsed.TotalSeconds, gateway.ResidentBytes(), generator.AcceptedSoFar, counts.Sent));
                } while (await timer.WaitForNextTickAsync(samplerStop.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result));
            });

            Counts? atWindowStart = null;
            TimeSpan gwCpu0 = default, benchCpu0 = default;
            double windowStartT = 0;
            Console.Write($"load: {o.Warmup} s warm-up + {seconds} s… ");
            var load = await generator.RunAsync(o.Clients, TimeSpan.FromSeconds(o.Warmup), TimeSpan.FromSeconds(seconds), () =>
            {
                windowStartT = clock.Elapsed.TotalSeconds;
                gwCpu0 = gateway.CpuTime();
                benchCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                atWindowStart = probe.Count();
            });
            var windowEndT = windowStartT + seconds;
            var loadEndT = clock.Elapsed.TotalSeconds;
            var gatewayCores = (gateway.CpuTime() - gwCpu0).TotalSeconds / (loadEndT - windowStartT);
            var benchCores = (Process.GetCurrentProcess().TotalProcessorTime - benchCpu0).TotalSeconds / (loadEndT - windowStartT);
            var atLoadEnd = probe.Count();
            Console.WriteLine($"{load.TotalAccepted:N0} accepted, {load.TotalErrors:N0} errors");

            // Outbox drain: wait until nothing is queued or sending.
            Console.Write($"outbox: draining {atLoadEnd.Pending:N0} pending… ");
            var drainClock = Stopwatch.StartNew();
            var atDrainEnd = atLoadEnd;
            while (atDrainEnd.Pending > 0 && drainClock.Elapsed < TimeSpan.FromSeconds(o.DrainTimeoutSeconds) && !gateway.HasExited)
            {
                await Task.Delay(100);
                atDrainEnd = probe.Count();
            }
            var drainSeconds = drainClock.Elapsed.TotalSeconds;
            var drained = atDrainEnd.Pending == 0;
            Console.WriteLine(drained ? $"done in {drainSeconds:0.0} s" : $"gave up after {drainSeconds:0} s ({atDrainEnd.Pending:N0} still pending)");
            await Task.Delay(1100); // one more memory sample after the drain
            samplerStop.Cancel();
            await sampler;

            OpenLoopResult? openLoop = null;
            if (o.OfferedSeconds > 0)
            {
                Console.Write($"open loop: {o.OfferedRate:N0}/s offered for {o.OfferedWarmup} s warm-up + {o.OfferedSeconds} s… ");
                const int maxInFlight = 512;
                using var openClient = LoadGenerator.CreateClient(maxInFlight);
                var openGenerator = new LoadGenerator(openClient, new Uri(gateway.BaseAddress, "api/method/wap_bridge.api.whatsapp.send_api_message"), authorization, instanceId);
                openLoop = await openGenerator.RunOpenLoopAsync(o.OfferedRate, TimeSpan.FromSeconds(o.OfferedWarmup), TimeSpan.FromSeconds(o.OfferedSeconds), maxInFlight);
                Console.WriteLine($"{openLoop.Accepted:N0} accepted, {openLoop.Errors:N0} errors, {openLoop.Skipped:N0} not started (all connections busy)");
            }

            // Durability: every accepted id is a row.
            var stored = probe.SerializedIds();
            var accepted = openLoop is null ? load.AcceptedIds : load.AcceptedIds.Concat(openLoop.AcceptedIds).ToList();
            var missing = accepted.LongCount(id => !stored.Contains(id));

            var ws = atWindowStart ?? atLoadEnd;
            var duringLoad = (atLoadEnd.Sent - ws.Sent) / Math.Max(1e-9, Stopwatch.GetElapsedTime(ws.At, atLoadEnd.At).TotalSeconds);
            var drainRate = drainSeconds > 0 && atLoadEnd.Pending > 0
                ? (atDrainEnd.PastSending - atLoadEnd.PastSending) / Math.Max(1e-9, Stopwatch.GetElapsedTime(atLoadEnd.At, atDrainEnd.At).TotalSeconds)
                : double.NaN;
            var firstSendT = samples.Count > 0 ? samples[0].T : 0;
            var overall = atDrainEnd.Sent / Math.Max(1e-9, clock.Elapsed.TotalSeconds - 1.1 - firstSendT);

            Running = null;
            var logTail = Gateway.Tail(gateway.LogPath, 5);
            return new GatewayReport(load, stored.Count, missing, ws, atLoadEnd, atDrainEnd, drained, drainSeconds,
                duringLoad, drainRate, overall, samples, windowStartT, windowEndT, gatewayCores, benchCores,
                gateway.LogPath, o.KeepData ? gateway.DataDir : null, logTail, openLoop);
        }

        /// <summary>Read-only look at the gateway's SQLite file (the same numbers list_messages would give, without loading the API).</summary>
        private sealed class DbProbe(Gateway gateway) : IDisposable
        {
            private readonly Microsoft.Data.Sqlite.SqliteConnection _connection = gateway.OpenReadOnly();
            private readonly Lock _gate = new();

            public Counts Count()
            {
                lock (_gate)
                {
                    using var cmd = _connection.CreateCommand();
                    cmd.CommandText = "SELECT Status, COUNT(*) FROM Messages WHERE Direction = 'outbound' GROUP BY Status";
                    long queued = 0, sending = 0, sent = 0, failed = 0, total = 0;
                    using var reader = cmd.ExecuteReader();
                    while (reader.Read())
                    {
                        var n = reader.GetInt64(1);
                        total += n;
                        switch (reader.GetString(0))
                        {
                            case "queued": queued += n; break;
                            case "sending": sending += n; break;
                            case "sent" or "delivered" or "read": sent += n; break;
                            case "failed": failed += n; break;
                        }
                    }
                    return new Counts(queued, sending, sent, failed, total, Stopwatch.GetTimestamp());
                }
            }

            public HashSet<string> SerializedIds()
            {
                lock (_gate)
                {
                    using var cmd = _connection.CreateCommand();
                    cmd.CommandText = "SELECT SerializedId FROM Messages WHERE Direction = 'outbound'";
                    var ids = new HashSet<string>(StringComparer.Ordinal);
                    using var reader = cmd.ExecuteReader();
                    while (reader.Read())
                        ids.Add(reader.GetString(0));
                    return ids;
                }
            }

            public void Dispose() => _connection.Dispose();
        }

        // ----------------------------------------------------------------- baseline

        private sealed record BaselineReport(LoadResult Load, long Rows, double Cores);

        private async Task<BaselineReport> RunBaselineAsync()
        {
            Console.Write($"baseline: bare minimal API + SQLite INSERT{(o.BaselineUnlocked ? " (unlocked)" : "")}, {o.Warmup} s warm-up + {o.Seconds} s… ");
            await using var baseline = await Baseline.StartAsync(serializeWrites: !o.BaselineUnlocked);
            using var client = LoadGenerator.CreateClient(o.Clients);
            var generator = new LoadGenerator(client, baseline.SendUrl, null, "baseline");
            TimeSpan cpu0 = default;
            var clock = Stopwatch.StartNew();
            double t0 = 0;
            var load = await generator.RunAsync(o.Clients, TimeSpan.FromSeconds(o.Warmup), TimeSpan.FromSeconds(o.Seconds), () =>
            {
                t0 = clock.Elapsed.TotalSeconds;
                cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            });
            var cores = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / (clock.Elapsed.TotalSeconds - t0);
            var rows = baseline.CountRows();
            Console.WriteLine($"{load.TotalAccepted:N0} accepted, {load.TotalErrors:N0} errors");
            return new BaselineReport(load, rows, cores);
        }

        // ----------------------------------------------------------------- report

        private void Print(GatewayReport g, BaselineReport? b)
        {
            var load = g.Load;
            var p50 = load.Percentile(50); var p95 = load.Percentile(95); var p99 = load.Percentile(99);

            Console.WriteLine();
            Console.WriteLine("                                                figure                          target          verdict");
            Console.WriteLine("1 SEND  send_api_message wait=0 (gateway process)");
            Row("accepted/s (measured window)", $"{load.AcceptedPerSecond:N0}", "≥ 2,000/s", Verdict(load.AcceptedPerSecond >= TargetAcceptedPerSecond));
            Row("latency p50 / p95 / p99", $"{p50:0.0} / {p95:0.0} / {p99:0.0} ms", "p99 < 50 ms", Verdict(p99 < TargetP99Ms));
            Row("latency max", $"{load.LatenciesMs.DefaultIfEmpty(double.NaN).Max():0.0} ms", "", "");
            Row("errors window / whole run", $"{load.Errors:N0} / {load.TotalErrors:N0}" + ErrorKinds(load), "0", Verdict(load.TotalErrors == 0));
            var acceptedInAll = load.TotalAccepted + (g.OpenLoop?.AcceptedIds.Count ?? 0);
            Row("durable: accepted ids in DB", $"{acceptedInAll - g.MissingIds:N0} of {acceptedInAll:N0} ({g.RowsInDb:N0} rows)", "all", Verdict(g.MissingIds == 0 && load.TotalAccepted > 0));
            if (g.OpenLoop is { } open)
            {
                Console.WriteLine($"1b LATENCY  send_api_message wait=0 at {open.Rate:N0}/s offered (open loop, from each scheduled start)");
                var achieved = open.Accepted / Math.Max(1e-9, open.OfferedSeconds);
                Row("accepted/s; errors; not started", $"{achieved:N0}; {open.Errors:N0}; {open.Skipped:N0}", $"≥ {TargetAcceptedPerSecond:N0}/s",
                    Verdict(achieved >= TargetAcceptedPerSecond * 0.98 && open.Errors == 0 && open.Skipped == 0));
                var op99 = open.Percentile(99);
                Row("latency p50 / p95 / p99", $"{open.Percentile(50):0.0} / {open.Percentile(95):0.0} / {op99:0.0} ms", "p99 < 50 ms", Verdict(op99 < TargetP99Ms));
                Row("latency max", $"{open.LatenciesMs.DefaultIfEmpty(double.NaN).Max():0.0} ms", "", "");
            }

            Console.WriteLine("2 OUTBOX  messages reaching sent (or delivered/read)");
            Row("rate during the load", $"{g.OutboxDuringLoad:N0} msg/s", "", "");
            Row("backlog when the load stopped", $"{g.AtLoadEnd.Pending:N0} (queued {g.AtLoadEnd.Queued:N0}, sending {g.AtLoadEnd.Sending:N0})", "", "");
            // A backlog of a few hundred is the last batches in flight, not a drain worth timing.
            var hasBacklog = g.AtLoadEnd.Pending >= 1000;
            var drainText = !hasBacklog ? $"no backlog ({g.AtLoadEnd.Pending:N0} in flight)"
                : $"{g.DrainSeconds:0.0} s, {g.OutboxDrainRate:N0} msg/s" + (g.Drained ? "" : $" (timeout, {g.AtDrainEnd.Pending:N0} left)");
            // The drain rate is the outbox alone; with no backlog the outbox kept up and the load rate is a lower bound.
            var outboxFigure = hasBacklog ? g.OutboxDrainRate : g.OutboxDuringLoad;
            Row("drain of the backlog", drainText, "≥ 1,000 msg/s", Verdict(outboxFigure >= TargetOutboxPerSecond));
            Row("overall: sent ÷ (load + drain time)", $"{g.OutboxOverall:N0} msg/s ({g.AtDrainEnd.Sent:N0} sent, {g.AtDrainEnd.Failed:N0} failed)", "", "");

            Console.WriteLine("3 MEMORY  gateway VmRSS, sampled every second");
            var rss = g.Samples.Select(s => s.Rss / 1048576.0).ToList();
            // Second half of the load plus the drain: x = messages handled (accepted + sent), so a per-message leak shows as MB per 10k.
            var half = g.Samples.Where(s => s.T >= (g.WindowStartT + g.WindowEndT) / 2).ToList();
            var perMin = Stats.Slope(half.Select(s => (s.T / 60, s.Rss / 1048576.0)).ToList());
            var per10k = Stats.Slope(half.Select(s => ((s.Accepted + s.Sent) / 10000.0, s.Rss / 1048576.0)).ToList());
            var handledInHalf = half.Count > 1 ? (half[^1].Accepted + half[^1].Sent) - (half[0].Accepted + half[0].Sent) : 0;
            if (rss.Count > 0)
                Row("start / peak / end", $"{rss[0]:0} / {rss.Max():0} / {rss[^1]:0} MB", "", "");
            Row("slope, 2nd half of load + drain", $"{Num(perMin, "+0.0;-0.0")} MB/min", "", "");
            Row("  per 10k messages handled (acc.+sent)", $"{Num(per10k, "+0.00;-0.00")} MB ({handledInHalf:N0} handled)", "< 1 MB / 10k",
                handledInHalf < 500 || double.IsNaN(per10k) ? "n/a" : Verdict(per10k < TargetMbPer10k));
            Row("timeline (MB)", Timeline(g), "", "");

            Console.WriteLine("4 BASELINE  bare minimal API, one SQLite INSERT + commit per request (in the bench process"
                + (o.BaselineUnlocked ? ", writers racing)" : ", writes behind an async lock)"));
            if (b is null)
                Console.WriteLine("    skipped (--skip-baseline)");
            else
            {
                var bp99 = b.Load.Percentile(99);
                Row("requests/s", $"{b.Load.AcceptedPerSecond:N0}", "", "");
                Row("latency p50 / p99", $"{b.Load.Percentile(50):0.0} / {bp99:0.0} ms", "", "");
                Row("errors; rows = accepted", $"{b.Load.TotalErrors:N0}; {(b.Rows == b.Load.TotalAccepted ? "yes" : $"no ({b.Rows:N0} rows)")}", "", "");
                var ratio = load.AcceptedPerSecond / b.Load.AcceptedPerSecond;
                Row("gateway ÷ baseline", $"{ratio:0.00}× req/s ({ratio:P0}), p99 {p99 / bp99:0.0}×", "", "");
            }

            Console.WriteLine("CPU  (cores busy during the measured window, of " + Environment.ProcessorCount + ")");
            Row("gateway / load generator", $"{g.GatewayCores:0.00} / {g.BenchCores:0.00}" + (b is null ? "" : $"; baseline+generator {b.Cores:0.00}"), "", "");
            if (g.KeptDataDir is not null)
                Console.WriteLine($"data kept in {g.KeptDataDir}");
            if (!string.IsNullOrWhiteSpace(g.LogTail))
                Console.WriteLine("gateway log (last lines):\n  " + g.LogTail.Replace("\n", "\n  "));
        }

        private static string Timeline(GatewayReport g)
        {
            if (g.Samples.Count == 0) return "";
            var points = Math.Min(8, g.Samples.Count);
            var picks = Enumerable.Range(0, points).Select(i => g.Samples[(int)Math.Round(i * (g.Samples.Count - 1) / (double)(points - 1 == 0 ? 1 : points - 1))]);
            return string.Join(" ", picks.Select(s => $"{s.T:0}s:{s.Rss / 1048576.0:0}"));
        }

        private static string ErrorKinds(LoadResult load) =>
            load.ErrorKinds.Count == 0 ? "" : " (" + string.Join(", ", load.ErrorKinds.OrderByDescending(k => k.Value).Take(3).Select(k => $"{k.Key}: {k.Value:N0}")) + ")";

        private static string Num(double v, string format) => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

        private static string Verdict(bool pass) => pass ? "PASS" : "MISS";

        private static void Row(string label, string figure, string target, string verdict) =>
            Console.WriteLine($"    {label,-44}{figure,-32}{target,-16}{verdict}");
    }
}
