using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace WapBridge.Bench;

/// <summary>
/// <c>--large-body</c>: what one big media send costs the gateway in memory. Sends <c>--media-mb</c> MB of PDF as
/// base64 <c>media_data</c> in a JSON <c>send_api_message</c> (<c>--concurrent</c> at once), sampling the gateway's
/// RSS every 20 ms from before the request until after the answer, and reports the growth over the idle RSS.
/// </summary>
public sealed class LargeBodyMode(BenchOptions o)
{
    public async Task<int> RunAsync(string dll)
    {
        Console.WriteLine($"WapBridge benchmark, large body: {o.Concurrent} × {o.MediaMegabytes} MB document as base64 JSON; "
            + $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Report.Load()}");
        Console.Write("starting gateway… ");
        await using var gateway = await Gateway.StartAsync(dll, o.KeepData);
        BenchRun.Running = gateway;
        var (authorization, instanceId) = await gateway.SetUpSenderAsync();
        Console.WriteLine($"pid {gateway.Pid}, instance {instanceId} connected");

        var body = Body(instanceId, o.MediaMegabytes);
        using var client = gateway.ApiClient(authorization, TimeSpan.FromMinutes(5));

        // A small send first, so that the idle figure is that of a gateway that has served the API.
        await Gateway.CallAsync(client, "wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = instanceId, to_number = "255755000001", message = "warm-up" });
        await Task.Delay(TimeSpan.FromSeconds(2));
        var idle = gateway.ResidentBytes();

        var peak = idle;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, gateway.ResidentBytes());
                await Task.Delay(20);
            }
        });

        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, o.Concurrent).Select(async _ =>
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync("api/method/wap_bridge.api.whatsapp.send_api_message", content);
            var text = await response.Content.ReadAsStringAsync();
            return $"HTTP {(int)response.StatusCode} {(text.Length > 160 ? text[..160] + "…" : text)}";
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var after = gateway.ResidentBytes();
        stop.Cancel();
        await sampler;

        Report.Header($"LARGE BODY  {o.Concurrent} × send_api_message with a {o.MediaMegabytes} MB document ({body.Length / 1048576.0:0} MB of JSON each)");
        foreach (var answer in answers.Distinct())
            Report.Row("answer", answer);
        Report.Row("time to answer", $"{seconds:0.0} s");
        Report.Row("RSS idle → peak → 3 s after", $"{Report.Mb(idle)} → {Report.Mb(peak)} → {Report.Mb(after)} MB");
        Report.Row("peak growth over idle", $"+{Report.Mb(peak - idle)} MB ({(peak - idle) / (double)body.Length / o.Concurrent:0.0}× the body)");
        BenchRun.Running = null;
        return 0;
    }

    /// <summary>A JSON send whose media is <paramref name="megabytes"/> MB of a PDF-signed document, as the bytes a client puts on the wire.</summary>
    private static byte[] Body(string instanceId, int megabytes)
    {
        var file = new byte[megabytes * 1_000_000];
        Encoding.ASCII.GetBytes("%PDF-1.4\n").CopyTo(file, 0);
        new Random(1).NextBytes(file.AsSpan(16));
        var prefix = Encoding.UTF8.GetBytes($"{{\"instance_id\":\"{instanceId}\",\"to_number\":\"255755000002\",\"mime_type\":\"application/pdf\",\"filename\":\"big.pdf\",\"media_data\":\"");
        var suffix = "\"}"u8.ToArray();
        var base64Length = (file.Length + 2) / 3 * 4;
        var body = new byte[prefix.Length + base64Length + suffix.Length];
        prefix.CopyTo(body, 0);
        if (System.Buffers.Text.Base64.EncodeToUtf8(file, body.AsSpan(prefix.Length), out _, out var written) != System.Buffers.OperationStatus.Done || written != base64Length)
            throw new InvalidOperationException("base64 encoding failed");
        suffix.CopyTo(body, prefix.Length + base64Length);
        return body;
    }
}
