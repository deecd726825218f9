using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace WapBridge.Bench;

/// <summary>
/// <c>--campaigns</c>: one campaign of N recipients created in one call (Hangfire on, throttle 0), then the
/// runner's throughput and CPU per recipient, campaign_status latency at that size, and memory.
/// For context, the plain send path's CPU per message is measured first on the same gateway.
/// </summary>
public sealed class CampaignMode(BenchOptions o)
{
    private const double TargetCreateSeconds = 5, TargetStatusP99Ms = 10, TargetAddedCpuMs = 1;
    private const int PlainSeconds = 5;
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private sealed record RunnerSample(double T, long Processed, long Sent, long Failed, long Pending, TimeSpan Cpu);

    public async Task<int> RunAsync(string dll)
    {
        Console.WriteLine($"WapBridge benchmark, campaigns: {o.CampaignRecipients:N0} recipients, runner watched {o.RunnerSeconds} s, {o.StatusCalls:N0} status calls; "
            + $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Report.Load()}");
        var env = new Dictionary<string, string>
        {
            ["WAPBRIDGE_Hangfire__ServerEnabled"] = "true",
            ["WAPBRIDGE_Hangfire__QueuePollInterval"] = "00:00:00.1",
        };
        Console.Write("starting gateway (Hangfire on)… ");
        var startClock = Stopwatch.StartNew();
        await using var gateway = await Gateway.StartAsync(dll, o.KeepData, env);
        BenchRun.Running = gateway;
        var (authorization, instanceId) = await gateway.SetUpSenderAsync();
        using var api = gateway.ApiClient(authorization, TimeSpan.FromSeconds(300));
        Console.WriteLine($"pid {gateway.Pid} on {gateway.BaseAddress}, instance {instanceId} connected ({startClock.Elapsed.TotalSeconds:0.0} s)");

        // ------------------------------------------------------------ context: the plain send path's CPU per message
        var plainClients = Math.Min(o.Clients, 16);
        Console.Write($"plain send path: {plainClients} clients × {PlainSeconds} s, then the outbox and receipts… ");
        double plainCpuMs, plainRate;
        long plainAccepted;
        using (var client = LoadGenerator.CreateClient(plainClients))
        {
            var cpu0 = gateway.ProcCpuTime();
            var generator = new LoadGenerator(client, new Uri(gateway.BaseAddress, "api/method/wap_bridge.api.whatsapp.send_api_message"), authorization, instanceId);
            var plain = await generator.RunAsync(plainClients, TimeSpan.Zero, TimeSpan.FromSeconds(PlainSeconds));
            var drain = Stopwatch.StartNew();
            while (OutboxPending(gateway) > 0 && drain.Elapsed < TimeSpan.FromSeconds(o.DrainTimeoutSeconds))
                await Task.Delay(100);
            await Task.Delay(3500); // receipts: delivered after 1 s, read after 3 s
            plainAccepted = plain.TotalAccepted;
            plainRate = plain.AcceptedPerSecond;
            plainCpuMs = (gateway.ProcCpuTime() - cpu0).TotalMilliseconds / Math.Max(1, plainAccepted);
            Console.WriteLine($"{plainAccepted:N0} messages, {plainCpuMs:0.00} ms CPU each");
        }

        var clock = Stopwatch.StartNew();
        await using var memory = new Sampler<(double T, long Rss)>(() => (clock.Elapsed.TotalSeconds, gateway.ResidentBytes()));

        // ------------------------------------------------------------ create
        var body = Recipients(instanceId, o.CampaignRecipients);
        Console.Write($"create_and_start_campaign: {o.CampaignRecipients:N0} recipients, {body.Length / 1048576.0:0.0} MB body… ");
        var createCpu0 = gateway.ProcCpuTime();
        var began = Stopwatch.GetTimestamp();
        using var createRequest = new HttpRequestMessage(HttpMethod.Post, "api/method/wap_bridge.api.campaigns.create_and_start_campaign") { Content = new ByteArrayContent(body) };
        createRequest.Content.Headers.ContentType = JsonType;
        using var createResponse = await api.SendAsync(createRequest);
        var createText = await createResponse.Content.ReadAsStringAsync();
        var createSeconds = Stopwatch.GetElapsedTime(began).TotalSeconds;
        var createCpu = (gateway.ProcCpuTime() - createCpu0).TotalSeconds;
        if (!createResponse.IsSuccessStatusCode)
            throw new InvalidOperationException($"create_and_start_campaign: HTTP {(int)createResponse.StatusCode} {createText[..Math.Min(500, createText.Length)]}");
        var created = JsonNode.Parse(createText)!["message"]!;
        var campaign = created["campaign"]!.GetValue<string>();
        Console.WriteLine($"{campaign}: {created["status"]}, total {created["total"]}, invalid {created["invalid"]?.AsArray().Count}, duplicates {created["duplicates"]} in {createSeconds:0.00} s");

        // ------------------------------------------------------------ runner
        Console.Write($"runner: watching campaign_status for {o.RunnerSeconds} s… ");
        var runner = new List<RunnerSample>();
        async Task<RunnerSample> StatusSample()
        {
            var s = await Gateway.CallAsync(api, "wap_bridge.api.campaigns.campaign_status", new { campaign });
            long V(string k) => s[k]?.GetValue<long>() ?? 0;
            return new RunnerSample(clock.Elapsed.TotalSeconds, V("sent") + V("failed") + V("skipped"), V("sent"), V("failed"), V("pending"), gateway.ProcCpuTime());
        }
        var runnerClock = Stopwatch.StartNew();
        double? firstSentAfter = null;
        while (runnerClock.Elapsed < TimeSpan.FromSeconds(o.RunnerSeconds + 1))
        {
            var s = await StatusSample();
            runner.Add(s);
            if (firstSentAfter is null && s.Processed > 0)
                firstSentAfter = runnerClock.Elapsed.TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(runnerClock.Elapsed.TotalMilliseconds % 1000));
        }
        // Judge from the first sample with progress (the runner's start-up is reported separately).
        var from = runner.FirstOrDefault(s => s.Processed > 0) ?? runner[0];
        var to = runner[^1];
        var processed = to.Processed - from.Processed;
        var runnerRate = processed / Math.Max(1e-9, to.T - from.T);
        var runnerCores = (to.Cpu - from.Cpu).TotalSeconds / Math.Max(1e-9, to.T - from.T);
        var cpuPerRecipient = processed > 0 ? (to.Cpu - from.Cpu).TotalMilliseconds / processed : double.NaN;
        Console.WriteLine($"{to.Processed:N0} processed, {runnerRate:N1}/s");

        // ------------------------------------------------------------ campaign_status latency, at that size, runner still running
        Console.Write($"campaign_status: {o.StatusCalls:N0} sequential calls… ");
        var statusBody = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { campaign }));
        var statusLoop = new RequestLoop(api, _ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "api/method/wap_bridge.api.campaigns.campaign_status") { Content = new ByteArrayContent(statusBody) };
            request.Content.Headers.ContentType = JsonType;
            return request;
        }, (status, bytes) => RequestLoop.FrappeField(status, bytes, "campaign"));
        var statusResult = await statusLoop.RunAsync(1, o.StatusCalls, null);
        Console.WriteLine($"{statusResult.Ok:N0} ok in {statusResult.Seconds:0.0} s");
        var final = await StatusSample();
        await Task.Delay(1100);
        var rss = await memory.StopAsync();

        Report.Header($"CAMPAIGNS  one campaign of {o.CampaignRecipients:N0} recipients, throttle 0, Hangfire on ({Report.Load()})");
        Console.WriteLine("1 CREATE  create_and_start_campaign, one request");
        Report.Row("latency", $"{createSeconds:0.00} s ({body.Length / 1048576.0:0.0} MB body)", "< 5 s", Report.Verdict(createSeconds < TargetCreateSeconds));
        Report.Row("total / invalid / duplicates", $"{created["total"]} / {created["invalid"]?.AsArray().Count} / {created["duplicates"]}");
        Report.Row("gateway CPU during the create", $"{createCpu:0.00} s");
        Console.WriteLine("2 STATUS  campaign_status, sequential, while the runner runs");
        var sp99 = statusResult.Percentile(99);
        Report.Row("latency p50 / p95 / p99", $"{statusResult.Percentile(50):0.0} / {statusResult.Percentile(95):0.0} / {sp99:0.0} ms", "p99 < 10 ms", Report.Verdict(sp99 < TargetStatusP99Ms));
        Report.Row("latency max; errors", $"{statusResult.Max:0.0} ms; {statusResult.ErrorText}");
        Console.WriteLine("3 RUNNER  recipients moving to sent (or failed/skipped)");
        Report.Row("first recipient processed after", firstSentAfter is { } f ? $"{f:0.0} s (from create's answer)" : "never");
        Report.Row("throughput", $"{runnerRate:N1} recipients/s ({processed:N0} in {to.T - from.T:0.0} s)");
        Report.Row("  for scale: plain send_api_message", $"{plainRate:N0} msg/s accepted ({plainClients} clients)");
        Report.Row("  time for the whole campaign at this rate", runnerRate > 0 ? $"{o.CampaignRecipients / runnerRate / 3600:0.0} h" : "n/a");
        Report.Row("gateway CPU while the runner runs", $"{runnerCores:0.00} cores");
        Report.Row("CPU per recipient (total)", $"{cpuPerRecipient:0.00} ms");
        Report.Row("CPU per message, plain send path", $"{plainCpuMs:0.00} ms ({plainAccepted:N0} messages incl. outbox and receipts)");
        var added = cpuPerRecipient - plainCpuMs;
        Report.Row("CPU per recipient added by the runner", $"{added:0.00} ms", "< 1 ms", double.IsNaN(added) ? "n/a" : Report.Verdict(added < TargetAddedCpuMs));
        Report.Row("at the end: sent / failed / pending", $"{final.Sent:N0} / {final.Failed:N0} / {final.Pending:N0}");
        Console.WriteLine("4 MEMORY  gateway VmRSS, from before the create");
        Report.Row("start / peak / end", $"{Report.Mb(rss[0].Rss)} / {Report.Mb(rss.Max(s => s.Rss))} / {Report.Mb(rss[^1].Rss)} MB");
        Report.Row("timeline (MB)", Report.Timeline(rss, s => s.T, s => s.Rss));

        try { await Gateway.CallAsync(api, "wap_bridge.api.campaigns.cancel_campaign", new { campaign }); } catch (Exception) { }
        BenchRun.Running = null;
        var tail = Gateway.Tail(gateway.LogPath, 5);
        if (o.KeepData) Console.WriteLine($"data kept in {gateway.DataDir}");
        if (!string.IsNullOrWhiteSpace(tail)) Console.WriteLine("gateway log (last lines):\n  " + tail.Replace("\n", "\n  "));
        return 0;
    }

    /// <summary>The create body: distinct valid numbers from 255757000000 up (skipping …9999), each with a name.</summary>
    private static byte[] Recipients(string instanceId, int count)
    {
        var buffer = new ArrayBufferWriter<byte>(count * 64 + 1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("instance_id", instanceId);
            w.WriteString("campaign_name", $"Bench {count:N0}");
            w.WriteString("message", "Hi {{name}}");
            w.WriteStartArray("recipients");
            for (long i = 0, k = 0; i < count; i++, k++)
            {
                if (k % 10_000 == 9_999) k++; // …9999 is "not on WhatsApp" in the simulator
                w.WriteStartObject();
                w.WriteString("phone_number", (255_757_000_000L + k).ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("name", "Customer " + i);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("throttle");
            w.WriteNumber("min_delay_seconds", 0);
            w.WriteNumber("max_delay_seconds", 0);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static long OutboxPending(Gateway gateway)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = gateway.DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM Messages WHERE Direction = 'outbound' AND Status IN ('queued', 'sending')";
        return (long)cmd.ExecuteScalar()!;
    }
}
