using System.Globalization;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;

namespace WapBridge.Bench;

/// <summary>
/// <c>--webhooks</c>: inbound messages injected through the simulator at full speed, delivered as <c>message</c>
/// webhooks to a loopback receiver in this process; then a backlog built while the receiver answers 503, the
/// gateway's memory while it grows, and its drain once the receiver is back.
/// </summary>
public sealed class WebhookMode(BenchOptions o)
{
    private const double TargetDeliveredPerSecond = 1000, TargetMbPer10k = 1.0;
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private sealed record Sample(double T, long Injected, long Distinct, long Requests, long Rss);

    public async Task<int> RunAsync(string dll)
    {
        Console.WriteLine($"WapBridge benchmark, webhooks: {o.Clients} injecting clients, {o.InjectBatch} message(s) per call, {o.Warmup} s warm-up + {o.Seconds} s; backlog {o.WebhookBacklog:N0} "
            + $"(retry every {o.RetrySeconds} s after the first 5 s); {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Report.Load()}");
        await using var receiver = await WebhookReceiver.StartAsync();
        var env = new Dictionary<string, string> { ["WAPBRIDGE_Webhooks__AllowLoopbackTargets"] = "true", ["WAPBRIDGE_Webhooks__RetrySchedule__0"] = "00:00:05" };
        // Long enough that nothing goes dead during a long backlog (first retry after 5 s, then every RetrySeconds, 40 times).
        for (var i = 1; i <= 40; i++)
            env[$"WAPBRIDGE_Webhooks__RetrySchedule__{i}"] = TimeSpan.FromSeconds(o.RetrySeconds).ToString("c");

        Console.Write("starting gateway… ");
        var startClock = Stopwatch.StartNew();
        await using var gateway = await Gateway.StartAsync(dll, o.KeepData, env);
        BenchRun.Running = gateway;
        var (authorization, instanceId) = await gateway.SetUpSenderAsync();
        using var api = gateway.ApiClient(authorization);
        await Gateway.CallAsync(api, "wap_bridge.api.settings.set_webhook", new { url = receiver.HookUrl.ToString() });
        Console.WriteLine($"pid {gateway.Pid} on {gateway.BaseAddress}, instance {instanceId}, webhook {receiver.HookUrl} ({startClock.Elapsed.TotalSeconds:0.0} s)");

        using var client = LoadGenerator.CreateClient(o.Clients);
        // One message per call, or --inject-batch messages per simulator.inbound_messages call: the injection stands in for
        // WhatsApp's socket, which hands the gateway many messages without an HTTP request each.
        var batch = o.InjectBatch;
        var url = new Uri(gateway.BaseAddress, batch == 1 ? "api/method/wap_bridge.api.simulator.inbound_message" : "api/method/wap_bridge.api.simulator.inbound_messages");
        long numbers = 0;
        string NextNumber() => (255_755_100_000 + Interlocked.Increment(ref numbers) % 100_000).ToString(CultureInfo.InvariantCulture);
        RequestLoop NewLoop() => new(client, _ =>
        {
            var body = batch == 1
                ? $$"""{"instance_id":"{{instanceId}}","from_number":"{{NextNumber()}}","message":"bench"}"""
                : $$"""{"instance_id":"{{instanceId}}","messages":[{{string.Join(",", Enumerable.Range(0, batch).Select(_ => $$"""{"from_number":"{{NextNumber()}}","message":"bench"}"""))}}]}""";
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
            request.Content.Headers.ContentType = JsonType;
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            return request;
        }, (status, body) => batch == 1 ? RequestLoop.FrappeField(status, body, "id") : RequestLoop.FrappeField(status, body, "instance_id"), batch);

        using var probe = new DeliveryProbe(gateway.DatabasePath);
        var clock = Stopwatch.StartNew();

        // ------------------------------------------------------------ phase A: throughput, receiver up
        var loopA = NewLoop();
        var samplesA = new Sampler<Sample>(() => new Sample(clock.Elapsed.TotalSeconds, loopA.OkSoFar, receiver.DistinctDelivered, receiver.Requests, gateway.ResidentBytes()));
        Console.Write($"throughput: injecting for {o.Warmup} + {o.Seconds} s… ");
        var injectStart = Stopwatch.GetTimestamp();
        (double T, long Injected, long Distinct, TimeSpan Cpu) windowStart = default;
        var windowHook = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(o.Warmup));
            windowStart = (clock.Elapsed.TotalSeconds, loopA.OkSoFar, receiver.DistinctDelivered, gateway.ProcCpuTime());
        });
        var resultA = await loopA.RunAsync(o.Clients, null, TimeSpan.FromSeconds(o.Warmup + o.Seconds));
        await windowHook;
        var windowEnd = (T: clock.Elapsed.TotalSeconds, Injected: loopA.OkSoFar, Distinct: receiver.DistinctDelivered, Cpu: gateway.ProcCpuTime());
        Console.WriteLine($"{resultA.Ok:N0} injected, {resultA.Errors:N0} errors; {receiver.DistinctDelivered:N0} delivered so far");

        Console.Write($"throughput: waiting for {resultA.Ok - receiver.DistinctDelivered:N0} more deliveries… ");
        var waitClock = Stopwatch.StartNew();
        while (receiver.DistinctDelivered < resultA.Ok && waitClock.Elapsed < TimeSpan.FromSeconds(o.DrainTimeoutSeconds) && !gateway.HasExited)
            await Task.Delay(100);
        await Task.Delay(1000); // anything beyond the count (duplicates, extra events) shows up too
        var samplesAList = await samplesA.StopAsync();
        var lastNewA = receiver.LastNewIdAt;
        var deliveredA = receiver.DistinctDelivered;
        var requestsA = receiver.Requests;
        var pendingA = await PendingTotalAsync(api);
        Console.WriteLine(deliveredA >= resultA.Ok ? $"done in {waitClock.Elapsed.TotalSeconds - 1:0.0} s" : $"gave up after {waitClock.Elapsed.TotalSeconds:0} s");

        var windowSeconds = Math.Max(1e-9, windowEnd.T - windowStart.T);
        var injectedPerSecond = (windowEnd.Injected - windowStart.Injected) / windowSeconds;
        var deliveredSteady = (windowEnd.Distinct - windowStart.Distinct) / windowSeconds;
        var overallSeconds = lastNewA == 0 ? double.NaN : Stopwatch.GetElapsedTime(injectStart, lastNewA).TotalSeconds;
        var deliveredOverall = deliveredA / overallSeconds;
        // CPU of the whole inbound path (API, storage, webhook outbox and dispatch) per message injected in the window.
        var cpuPerMessage = (windowEnd.Cpu - windowStart.Cpu).TotalMilliseconds / Math.Max(1, windowEnd.Injected - windowStart.Injected);

        // ------------------------------------------------------------ phase B: backlog, receiver down
        BacklogReport? backlog = null;
        if (o.WebhookBacklog > 0)
            backlog = await BacklogAsync(gateway, receiver, api, probe, NewLoop(), resultA.Ok);

        Report.Header($"WEBHOOKS  simulator inbound ({(batch == 1 ? "inbound_message, one per call" : $"inbound_messages, {batch} per call")}) → message webhook → loopback receiver ({Report.Load()})");
        Console.WriteLine("1 THROUGHPUT  receiver answers 200");
        Report.Row("injected/s (measured window)", $"{injectedPerSecond:N0} ({resultA.Ok:N0} in all)");
        Report.Row("inject latency p50 / p99", $"{resultA.Percentile(50):0.0} / {resultA.Percentile(99):0.0} ms");
        Report.Row("inject errors", resultA.ErrorText, "0", Report.Verdict(resultA.Errors == 0));
        Report.Row("delivered/s, steady (measured window)", $"{deliveredSteady:N0}", "≥ 1,000/s", Report.Verdict(deliveredSteady >= TargetDeliveredPerSecond));
        Report.Row("delivered/s, overall until all delivered", $"{deliveredOverall:N0} ({deliveredA:N0} in {overallSeconds:0.0} s)", "≥ 1,000/s", Report.Verdict(deliveredOverall >= TargetDeliveredPerSecond));
        Report.Row("backlog when the injection stopped", $"{windowEnd.Injected - windowEnd.Distinct:N0}");
        Report.Row("zero loss: distinct webhook-ids = injected", $"{deliveredA:N0} of {resultA.Ok:N0}", "all", Report.Verdict(deliveredA == resultA.Ok));
        Report.Row("receiver requests (duplicates)", $"{requestsA:N0} ({requestsA - deliveredA:N0})");
        Report.Row("list_webhook_deliveries pending total", $"{pendingA}", "0", Report.Verdict(pendingA == 0));
        Report.Row("gateway CPU per message (inject + webhook)", $"{cpuPerMessage:0.00} ms ({(windowEnd.Cpu - windowStart.Cpu).TotalSeconds / windowSeconds:0.00} cores)");
        var rssA = samplesAList.Select(s => s.Rss).DefaultIfEmpty(0).ToList();
        Report.Row("memory start / peak / end", $"{Report.Mb(rssA[0])} / {Report.Mb(rssA.Max())} / {Report.Mb(rssA[^1])} MB");

        if (backlog is { } b)
        {
            Console.WriteLine($"2 BACKLOG  receiver answers 503 while {o.WebhookBacklog:N0} messages are injected, then 200");
            Report.Row("injected (errors), rate", $"{b.Inject.Ok:N0} ({b.Inject.Errors:N0}), {b.Inject.OkPerSecond:N0}/s");
            Report.Row("pending deliveries when injection ended", $"{b.PendingAtEnd:N0}");
            Report.Row("503 answers while down", $"{b.Answered503:N0}");
            Report.Row("memory start / peak / end of backlog", $"{Report.Mb(b.RssStart)} / {Report.Mb(b.RssPeak)} / {Report.Mb(b.RssEnd)} MB");
            Report.Row("slope while the backlog grows", $"{Num(b.SlopePerMinute, "+0.0;-0.0")} MB/min");
            Report.Row("  per 10k messages of backlog", $"{Num(b.SlopePer10k, "+0.00;-0.00")} MB", "< 1 MB / 10k",
                double.IsNaN(b.SlopePer10k) ? "n/a" : Report.Verdict(b.SlopePer10k < TargetMbPer10k));
            Report.Row("timeline while down (MB)", b.Timeline);
            var drainText = b.Drained ? $"{b.DrainSeconds:0.0} s, {b.DrainRate:N0}/s" : $"timeout after {b.DrainSeconds:0} s ({b.Delivered:N0} delivered)";
            Report.Row("drain after the receiver is back", drainText);
            Report.Row("memory peak during the drain / end", $"{Report.Mb(b.DrainRssPeak)} / {Report.Mb(b.DrainRssEnd)} MB");
            Report.Row("zero loss: distinct ids = injected (A+B)", $"{b.DistinctTotal:N0} of {b.InjectedTotal:N0}", "all", Report.Verdict(b.DistinctTotal == b.InjectedTotal));
            Report.Row("list_webhook_deliveries pending / dead", $"{b.PendingApi} / {b.DeadApi}", "0 / 0", Report.Verdict(b.PendingApi == 0 && b.DeadApi == 0));
        }
        BenchRun.Running = null;
        var tail = Gateway.Tail(gateway.LogPath, 5);
        if (o.KeepData) Console.WriteLine($"data kept in {gateway.DataDir}");
        if (!string.IsNullOrWhiteSpace(tail)) Console.WriteLine("gateway log (last lines):\n  " + tail.Replace("\n", "\n  "));
        return 0;
    }

    private sealed record BacklogReport(LoopResult Inject, long PendingAtEnd, long Answered503, long RssStart, long RssPeak, long RssEnd,
        double SlopePerMinute, double SlopePer10k, string Timeline, bool Drained, double DrainSeconds, double DrainRate, long Delivered,
        long DrainRssPeak, long DrainRssEnd, long DistinctTotal, long InjectedTotal, long PendingApi, long DeadApi);

    private async Task<BacklogReport> BacklogAsync(Gateway gateway, WebhookReceiver receiver, HttpClient api, DeliveryProbe probe, RequestLoop loop, long injectedBefore)
    {
        receiver.Down = true;
        var down503 = receiver.Answered503;
        var clock = Stopwatch.StartNew();
        var sampler = new Sampler<Sample>(() => new Sample(clock.Elapsed.TotalSeconds, loop.OkSoFar, receiver.DistinctDelivered, receiver.Answered503, gateway.ResidentBytes()));
        Console.Write($"backlog: receiver down, injecting {o.WebhookBacklog:N0}… ");
        var inject = await loop.RunAsync(o.Clients, (o.WebhookBacklog + o.InjectBatch - 1) / o.InjectBatch, null);
        var injectEndT = clock.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(5)); // the backlog held a few seconds, retries running
        var pendingAtEnd = probe.Pending();
        var downSamples = await sampler.StopAsync();
        Console.WriteLine($"{inject.Ok:N0} in {inject.Seconds:0.0} s, {pendingAtEnd:N0} pending");

        // The second half of the injection, as in the send benchmark: the first half is dominated by heap and cache
        // sizing to the new load, and a leak would show in both halves anyway.
        var injectStartT = downSamples.Count > 0 ? downSamples[0].T : 0;
        var growing = downSamples.Where(s => s.T >= (injectStartT + injectEndT) / 2 && s.T <= injectEndT + 0.5).ToList();
        var perMin = Stats.Slope(growing.Select(s => (s.T / 60, s.Rss / 1048576.0)).ToList());
        var per10k = Stats.Slope(growing.Select(s => (s.Injected / 10000.0, s.Rss / 1048576.0)).ToList());

        // Receiver back: deliveries go out as their retries come due.
        var distinctAtSwitch = receiver.DistinctDelivered;
        var target = injectedBefore + inject.Ok;
        receiver.Down = false;
        Console.Write($"backlog: receiver up, draining {target - distinctAtSwitch:N0}… ");
        var drainClock = Stopwatch.StartNew();
        var switchAt = Stopwatch.GetTimestamp();
        var drainSampler = new Sampler<long>(gateway.ResidentBytes);
        while (receiver.DistinctDelivered < target && drainClock.Elapsed < TimeSpan.FromSeconds(o.BacklogDrainTimeoutSeconds) && !gateway.HasExited)
            await Task.Delay(200);
        var drained = receiver.DistinctDelivered >= target;
        var drainSeconds = drained ? Stopwatch.GetElapsedTime(switchAt, receiver.LastNewIdAt).TotalSeconds : drainClock.Elapsed.TotalSeconds;
        await Task.Delay(1100);
        var drainRss = await drainSampler.StopAsync();
        Console.WriteLine(drained ? $"done in {drainSeconds:0.0} s" : $"gave up after {drainSeconds:0} s");
        var pendingApi = await PendingTotalAsync(api);
        var deadApi = await TotalAsync(api, "dead");

        return new BacklogReport(inject, pendingAtEnd, receiver.Answered503 - down503,
            downSamples[0].Rss, downSamples.Max(s => s.Rss), downSamples[^1].Rss, perMin, per10k,
            Report.Timeline(downSamples, s => s.T, s => s.Rss), drained, drainSeconds,
            (receiver.DistinctDelivered - distinctAtSwitch) / Math.Max(1e-9, drainSeconds), receiver.DistinctDelivered - distinctAtSwitch,
            drainRss.DefaultIfEmpty(0).Max(), drainRss.DefaultIfEmpty(0).Last(), receiver.DistinctDelivered, target, pendingApi, deadApi);
    }

    private static Task<long> PendingTotalAsync(HttpClient api) => TotalAsync(api, "pending");

    private static async Task<long> TotalAsync(HttpClient api, string state) =>
        (await Gateway.CallAsync(api, "wap_bridge.api.settings.list_webhook_deliveries", new { state, limit = 1 }))["total"]!.GetValue<long>();

    private static string Num(double v, string format) => double.IsNaN(v) ? "n/a" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Read-only count of pending deliveries in the gateway's SQLite file (no API load while sampling).</summary>
    private sealed class DeliveryProbe(string databasePath) : IDisposable
    {
        private SqliteConnection? _connection;

        public long Pending()
        {
            _connection ??= Open(databasePath);
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM WebhookDeliveries WHERE State = 'pending'";
            return (long)cmd.ExecuteScalar()!;
        }

        private static SqliteConnection Open(string path)
        {
            var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 }.ToString());
            c.Open();
            return c;
        }

        public void Dispose() => _connection?.Dispose();
    }
}
