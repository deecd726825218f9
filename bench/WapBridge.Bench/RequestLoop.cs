using System.Diagnostics;
using System.Net;

namespace WapBridge.Bench;

/// <summary>What one <see cref="RequestLoop"/> run measured (every request, no warm-up window).</summary>
public sealed class LoopResult
{
    public required long Ok { get; init; }
    public required long Errors { get; init; }
    public required double Seconds { get; init; }
    public required double[] LatenciesMs { get; init; }
    public required IReadOnlyDictionary<string, long> ErrorKinds { get; init; }
    public required IReadOnlyList<string> Values { get; init; }

    public double OkPerSecond => Ok / Math.Max(1e-9, Seconds);
    public double Percentile(double p) => Stats.Percentile(LatenciesMs, p);
    public double Max => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs.Max();

    public string ErrorText => Errors == 0 ? "0"
        : $"{Errors:N0} (" + string.Join(", ", ErrorKinds.OrderByDescending(k => k.Value).Take(3).Select(k => $"{k.Key}: {k.Value:N0}")) + ")";
}

/// <summary>
/// Closed-loop driver for any request: N workers, each sending one request at a time until a total count is
/// reached or a deadline passes. <c>check</c> answers (value, null) for a success — the value (an id) is kept —
/// or (null, error kind) for a failure. Successes so far are readable while it runs, for per-second samplers.
/// A request may carry several items (<paramref name="itemsPerRequest"/>): successes count items, latencies and errors count requests.
/// </summary>
public sealed class RequestLoop(HttpClient client, Func<long, HttpRequestMessage> request, Func<HttpStatusCode, byte[], (string? Value, string? Error)> check,
    int itemsPerRequest = 1)
{
    private long _next = -1;
    private long _ok;

    public long OkSoFar => Interlocked.Read(ref _ok);

    /// <param name="count">stop after this many requests in all (null: no count limit)</param>
    /// <param name="duration">stop starting requests after this long (null: no time limit)</param>
    public async Task<LoopResult> RunAsync(int workers, long? count, TimeSpan? duration, bool keepValues = false)
    {
        var started = Stopwatch.GetTimestamp();
        var deadline = duration is { } d ? started + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var all = Enumerable.Range(0, workers).Select(_ => new Worker()).ToArray();
        await Task.WhenAll(all.Select(w => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var n = Interlocked.Increment(ref _next);
                if (count is { } c && n >= c)
                    break;
                using var message = request(n);
                var began = Stopwatch.GetTimestamp();
                string? value = null, error;
                try
                {
                    using var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead);
                    var bytes = await response.Content.ReadAsByteArrayAsync();
                    (value, error) = check(response.StatusCode, bytes);
                }
                catch (Exception e)
                {
                    error = e is TaskCanceledException ? "timeout" : e.GetType().Name;
                }
                w.Latencies.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
                if (error is null)
                {
                    w.Ok += itemsPerRequest;
                    Interlocked.Add(ref _ok, itemsPerRequest);
                    if (keepValues && value is not null)
                        w.Values.Add(value);
                }
                else
                {
                    w.Errors++;
                    w.ErrorKinds[error] = w.ErrorKinds.GetValueOrDefault(error) + 1;
                }
            }
        })));
        var kinds = new Dictionary<string, long>();
        foreach (var w in all)
            foreach (var (k, v) in w.ErrorKinds)
                kinds[k] = kinds.GetValueOrDefault(k) + v;
        return new LoopResult
        {
            Ok = all.Sum(w => w.Ok),
            Errors = all.Sum(w => w.Errors),
            Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            LatenciesMs = all.SelectMany(w => w.Latencies).ToArray(),
            ErrorKinds = kinds,
            Values = all.SelectMany(w => w.Values).ToList(),
        };
    }

    /// <summary>A check for Frappe answers: 200 and <c>message.&lt;field&gt;</c> a string (returned as the value).</summary>
    public static (string? Value, string? Error) FrappeField(HttpStatusCode status, byte[] body, string field)
    {
        if (status != HttpStatusCode.OK)
            return (null, "HTTP " + (int)status);
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Object
                && m.TryGetProperty(field, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String)
                return (v.GetString(), null);
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return (null, $"200 without message.{field}");
    }

    private sealed class Worker
    {
        public long Ok, Errors;
        public readonly List<double> Latencies = new(1024);
        public readonly List<string> Values = new();
        public readonly Dictionary<string, long> ErrorKinds = new();
    }
}

/// <summary>RSS (and anything else) sampled once a second on a background task until stopped.</summary>
public sealed class Sampler<T> : IAsyncDisposable
{
    private readonly List<T> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public Sampler(Func<T> sample, TimeSpan? every = null)
    {
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(every ?? TimeSpan.FromSeconds(1));
            do
            {
                var s = sample();
                lock (_samples) _samples.Add(s);
            } while (await timer.WaitForNextTickAsync(_stop.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result));
        });
    }

    public List<T> Snapshot()
    {
        lock (_samples) return [.. _samples];
    }

    public async Task<List<T>> StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            await _loop;
        }
        return Snapshot();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}

/// <summary>Row printing shared by the modes: label, figure, target, verdict.</summary>
public static class Report
{
    public static string Verdict(bool pass) => pass ? "PASS" : "MISS";

    public static void Header(string title)
    {
        Console.WriteLine();
        Console.WriteLine("                                                figure                          target          verdict");
        Console.WriteLine(title);
    }

    public static void Row(string label, string figure, string target = "", string verdict = "") =>
        Console.WriteLine($"    {label,-44}{figure,-32}{target,-16}{verdict}");

    public static string Load()
    {
        try { return "load average " + string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "load average n/a"; }
    }

    public static string Mb(long bytes) => $"{bytes / 1048576.0:0}";

    public static string Timeline<T>(IReadOnlyList<T> samples, Func<T, double> t, Func<T, long> rss, int points = 8)
    {
        if (samples.Count == 0) return "";
        points = Math.Min(points, samples.Count);
        var picks = Enumerable.Range(0, points).Select(i => samples[(int)Math.Round(i * (samples.Count - 1) / (double)Math.Max(1, points - 1))]);
        return string.Join(" ", picks.Select(s => $"{t(s):0}s:{rss(s) / 1048576.0:0}"));
    }
}
