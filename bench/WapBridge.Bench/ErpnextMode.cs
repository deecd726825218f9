using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace WapBridge.Bench;

/// <summary>
/// <c>--erpnext</c>: <c>erpnext_notification_gateway</c> driven as ERPNext's SMS Settings send it — a form body
/// (<c>message</c>, <c>instance_id</c>, <c>to_number=+255…</c>), <c>Authorization: token key:secret</c>,
/// <c>Accept: text/plain, text/html, */*</c> — first one request at a time (ERPNext sends sequentially), then
/// from several concurrent senders (several ERPNext workers or sites).
/// </summary>
public sealed class ErpnextMode(BenchOptions o)
{
    private const double TargetP99Ms = 20;
    private const int WarmupRequests = 200;

    public async Task<int> RunAsync(string dll)
    {
        Console.WriteLine($"WapBridge benchmark, ERPNext gateway: {o.ErpnextRequests:N0} sequential requests, then {o.ErpnextRequests:N0} from {o.ErpnextSenders} senders; "
            + $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Report.Load()}");
        Console.Write("starting gateway… ");
        var startClock = Stopwatch.StartNew();
        await using var gateway = await Gateway.StartAsync(dll, o.KeepData);
        BenchRun.Running = gateway;
        var (authorization, instanceId) = await gateway.SetUpSenderAsync();
        Console.WriteLine($"pid {gateway.Pid} on {gateway.BaseAddress}, instance {instanceId} connected ({startClock.Elapsed.TotalSeconds:0.0} s)");

        using var client = LoadGenerator.CreateClient(Math.Max(1, o.ErpnextSenders));
        var url = new Uri(gateway.BaseAddress, "api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway");
        long numbers = 0;
        string? firstAnswer = null;
        RequestLoop NewLoop() => new(client, _ =>
        {
            long n;
            do n = Interlocked.Increment(ref numbers) % 1_000_000; while (n % 10_000 == 9_999); // …9999 is "not on WhatsApp" in the simulator
            var message = $"Sales Invoice ACC-SINV-2025-{n:00000} of TZS 125,000.00 is due on 2025-07-31.\nThank you for your business.";
            // What requests.post(url, data=params) sends: application/x-www-form-urlencoded, '+' escaped as %2B.
            var form = $"message={Uri.EscapeDataString(message)}&instance_id={Uri.EscapeDataString(instanceId)}&to_number={Uri.EscapeDataString("+255757" + n.ToString("000000"))}";
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(form)) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded");
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            request.Headers.TryAddWithoutValidation("Accept", "text/plain, text/html, */*");
            request.Headers.TryAddWithoutValidation("User-Agent", "python-requests/2.32.3");
            return request;
        }, (status, body) =>
        {
            firstAnswer ??= $"HTTP {(int)status} {Encoding.UTF8.GetString(body)}";
            return Check(status, body);
        });

        Console.Write($"warm-up: {WarmupRequests} sequential… ");
        var warm = await NewLoop().RunAsync(1, WarmupRequests, null);
        Console.WriteLine($"{warm.Ok} ok, {warm.Errors} errors; first answer: {Truncate(firstAnswer, 160)}");

        Console.Write($"sequential: {o.ErpnextRequests:N0}… ");
        var cpu0 = gateway.ProcCpuTime();
        var sequential = await NewLoop().RunAsync(1, o.ErpnextRequests, null);
        var seqCpu = (gateway.ProcCpuTime() - cpu0).TotalSeconds / sequential.Seconds;
        Console.WriteLine($"{sequential.Ok:N0} ok in {sequential.Seconds:0.0} s");

        Console.Write($"concurrent: {o.ErpnextRequests:N0} from {o.ErpnextSenders} senders… ");
        cpu0 = gateway.ProcCpuTime();
        var concurrent = await NewLoop().RunAsync(o.ErpnextSenders, o.ErpnextRequests, null);
        var conCpu = (gateway.ProcCpuTime() - cpu0).TotalSeconds / concurrent.Seconds;
        Console.WriteLine($"{concurrent.Ok:N0} ok in {concurrent.Seconds:0.0} s");

        Report.Header($"ERPNEXT  erpnext_notification_gateway, form body + token auth ({Report.Load()})");
        Print("1 SEQUENTIAL  one request at a time (as ERPNext sends)", sequential, seqCpu);
        Print($"2 CONCURRENT  {o.ErpnextSenders} senders", concurrent, conCpu);
        BenchRun.Running = null;
        var tail = Gateway.Tail(gateway.LogPath, 5);
        if (o.KeepData) Console.WriteLine($"data kept in {gateway.DataDir}");
        if (!string.IsNullOrWhiteSpace(tail)) Console.WriteLine("gateway log (last lines):\n  " + tail.Replace("\n", "\n  "));
        return 0;
    }

    private static void Print(string title, LoopResult r, double cores)
    {
        Console.WriteLine(title);
        var p99 = r.Percentile(99);
        Report.Row("requests/s", $"{r.OkPerSecond:N0} ({r.Ok:N0} ok in {r.Seconds:0.0} s)");
        Report.Row("latency p50 / p95 / p99", $"{r.Percentile(50):0.0} / {r.Percentile(95):0.0} / {p99:0.0} ms", "p99 < 20 ms", Report.Verdict(p99 < TargetP99Ms));
        Report.Row("latency max", $"{r.Max:0.0} ms");
        Report.Row("errors", r.ErrorText, "0", Report.Verdict(r.Errors == 0));
        Report.Row("gateway CPU", $"{cores:0.00} cores, {cores * 1000 / Math.Max(1e-9, r.OkPerSecond):0.00} ms per request");
    }

    /// <summary>200 with <c>message.ok = true</c> (the queued message); anything else is an error.</summary>
    private static (string? Value, string? Error) Check(HttpStatusCode status, byte[] body)
    {
        if (status != HttpStatusCode.OK)
            return (null, "HTTP " + (int)status);
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object
                && m.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
                return ("ok", null);
            return (null, "200 without message.ok = true");
        }
        catch (JsonException)
        {
            return (null, "200, not JSON");
        }
    }

    private static string Truncate(string? s, int n) => s is null ? "(none)" : s.Length <= n ? s : s[..n] + "…";
}
