using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace WapBridge.Bench;

/// <summary>What one load run measured.</summary>
public sealed class LoadResult
{
    public required double MeasuredSeconds { get; init; }
    /// <summary>Accepted responses that completed inside the measured window.</summary>
    public required long Accepted { get; init; }
    /// <summary>Failed requests (non-200, not ok, transport errors) completing inside the measured window.</summary>
    public required long Errors { get; init; }
    public required long TotalAccepted { get; init; }
    public required long TotalErrors { get; init; }
    public required double[] LatenciesMs { get; init; }
    public required IReadOnlyDictionary<string, long> ErrorKinds { get; init; }
    public required IReadOnlyList<string> AcceptedIds { get; init; }
    public required long WindowStartTimestamp { get; init; }
    public required long WindowEndTimestamp { get; init; }

    public double AcceptedPerSecond => Accepted / MeasuredSeconds;
    public double Percentile(double p) => Stats.Percentile(LatenciesMs, p);
}

/// <summary>What an open-loop run measured: latencies from each request's scheduled start.</summary>
public sealed record OpenLoopResult(double Rate, double OfferedSeconds, long Accepted, long Errors, long Skipped, double[] LatenciesMs, IReadOnlyList<string> AcceptedIds)
{
    public double Percentile(double p) => Stats.Percentile(LatenciesMs, p);
}

/// <summary>
/// Closed-loop load: N workers, each sending one request at a time for warm-up + duration. Requests that
/// complete inside the measured window count for throughput and latency; every accepted id is kept.
/// </summary>
public sealed class LoadGenerator(HttpClient client, Uri url, string? authorization, string instanceId)
{
    private long _numbers;
    private long _accepted;

    /// <summary>Accepted so far, readable while running (for the per-second samplers).</summary>
    public long AcceptedSoFar => Interlocked.Read(ref _accepted);

    /// <summary>An HTTP client for the generator: one pooled connection per worker, no proxy, loopback only.</summary>
    public static HttpClient CreateClient(int clients) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = Math.Max(clients, 1),
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestVersion = HttpVersion.Version11,
    };

    public async Task<LoadResult> RunAsync(int clients, TimeSpan warmup, TimeSpan duration, Action? onWindowStart = null)
    {
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var windowEnd = windowStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        var windowStartHook = onWindowStart is null ? Task.CompletedTask : Task.Run(async () =>
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), windowStart);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            onWindowStart();
        });

        var workers = new Worker[clients];
        for (var i = 0; i < clients; i++)
            workers[i] = new Worker();
        await Task.WhenAll(workers.Select(w => Task.Run(() => WorkAsync(w, windowStart, windowEnd))));
        await windowStartHook;

        var kinds = new Dictionary<string, long>();
        foreach (var w in workers)
            foreach (var (k, v) in w.ErrorKinds)
                kinds[k] = kinds.GetValueOrDefault(k) + v;
        return new LoadResult
        {
            MeasuredSeconds = duration.TotalSeconds,
            Accepted = workers.Sum(w => w.Accepted),
            Errors = workers.Sum(w => w.Errors),
            TotalAccepted = workers.Sum(w => w.TotalAccepted),
            TotalErrors = workers.Sum(w => w.TotalErrors),
            LatenciesMs = workers.SelectMany(w => w.Latencies).ToArray(),
            ErrorKinds = kinds,
            AcceptedIds = workers.SelectMany(w => w.Ids).ToList(),
            WindowStartTimestamp = windowStart,
            WindowEndTimestamp = windowEnd,
        };
    }

    /// <summary>
    /// Open-loop load: requests start on a fixed schedule of <paramref name="rate"/> a second whatever the answers do,
    /// and each latency is counted from the request's scheduled start, so a stall shows in the figures instead of
    /// slowing the load down (closed-loop latency is only clients ÷ throughput). The schedule runs for
    /// <paramref name="warmup"/> first without being counted: the client opens its connections then, as a
    /// long-running integrator's client already has. <paramref name="onWindowStart"/> runs when the first counted request
    /// is due, <paramref name="onWindowEnd"/> once the last one has started (before waiting for the answers).
    /// </summary>
    public async Task<OpenLoopResult> RunOpenLoopAsync(double rate, TimeSpan warmup, TimeSpan duration, int maxInFlight,
        Action? onWindowStart = null, Action? onWindowEnd = null)
    {
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        long accepted = 0, errors = 0, skipped = 0;
        using var inFlight = new SemaphoreSlim(maxInFlight);
        var requests = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var firstMeasured = (long)(rate * warmup.TotalSeconds);
        var total = firstMeasured + (long)(rate * duration.TotalSeconds);
        for (long n = 0; n < total; n++)
        {
            var scheduled = start + (long)(n / rate * Stopwatch.Frequency);
            var measured = n >= firstMeasured;
            while (Stopwatch.GetTimestamp() < scheduled)
                await Task.Delay(1);
            if (n == firstMeasured)
                onWindowStart?.Invoke();
            if (!inFlight.Wait(0))
            {
                // The gateway fell so far behind that every connection is busy: counted, not queued in the client.
                if (measured) skipped++;
                continue;
            }
            requests.Add(Task.Run(async () =>
            {
                try
                {
                    var (id, error) = await SendOneAsync();
                    if (id is not null) ids.Add(id);
                    if (!measured) return;
                    latencies.Add(Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds);
                    if (id is not null) Interlocked.Increment(ref accepted);
                    else Interlocked.Increment(ref errors);
                }
                finally
                {
                    inFlight.Release();
                }
            }));
        }
        var offeredSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds - warmup.TotalSeconds;
        onWindowEnd?.Invoke();
        await Task.WhenAll(requests);
        return new OpenLoopResult(rate, offeredSeconds, accepted, errors, skipped, latencies.ToArray(), ids.ToList());
    }

    private async Task<(string? Id, string? Error)> SendOneAsync()
    {
        var body = Body(NextNumber());
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = JsonType;
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK)
                return (null, "HTTP " + (int)response.StatusCode);
            return AcceptedId(bytes) is { } id ? (id, null) : (null, "200 without ok/id");
        }
        catch (Exception e)
        {
            return (null, e is TaskCanceledException ? "timeout" : e.GetType().Name);
        }
    }

    private async Task WorkAsync(Worker w, long windowStart, long windowEnd)
    {
        while (Stopwatch.GetTimestamp() < windowEnd)
        {
            var began = Stopwatch.GetTimestamp();
            var (id, error) = await SendOneAsync();
            var ended = Stopwatch.GetTimestamp();
            var inWindow = ended >= windowStart && ended <= windowEnd;

            if (id is not null)
            {
                w.Ids.Add(id);
                w.TotalAccepted++;
                Interlocked.Increment(ref _accepted);
                if (inWindow) w.Accepted++;
            }
            else
            {
                w.TotalErrors++;
                w.ErrorKinds[error!] = w.ErrorKinds.GetValueOrDefault(error!) + 1;
                if (inWindow) w.Errors++;
            }
            if (inWindow)
                w.Latencies.Add(Stopwatch.GetElapsedTime(began, ended).TotalMilliseconds);
        }
    }

    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    /// <summary>2557551xxxxx, skipping numbers ending in 9999 (the simulator treats those as "not on WhatsApp").</summary>
    private long NextNumber()
    {
        while (true)
        {
            var n = Interlocked.Increment(ref _numbers) % 100_000;
            if (n % 10_000 != 9_999)
                return 255_755_100_000 + n;
        }
    }

    private byte[] Body(long number) =>
        Encoding.UTF8.GetBytes($$"""{"instance_id":"{{instanceId}}","to_number":"{{number}}","message":"bench","wait":0}""");

    /// <summary>The id of a Frappe-style success {"message": {"ok": true, "id": "..."}}, else null.</summary>
    public static string? AcceptedId(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object
                && m.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True
                && m.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                return id.GetString();
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private sealed class Worker
    {
        public long Accepted, Errors, TotalAccepted, TotalErrors;
        public readonly List<double> Latencies = new(4096);
        public readonly List<string> Ids = new(4096);
        public readonly Dictionary<string, long> ErrorKinds = new();
    }
}

public static class Stats
{
    /// <summary>Nearest-rank percentile (sorts the array in place).</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        if (!IsSorted(sorted)) Array.Sort(sorted);
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static bool IsSorted(double[] a)
    {
        for (var i = 1; i < a.Length; i++)
            if (a[i - 1] > a[i]) return false;
        return true;
    }

    /// <summary>Least-squares slope of y over x; NaN with fewer than 3 points or no spread in x.</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 3) return double.NaN;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        var sxy = points.Sum(p => (p.X - mx) * (p.Y - my));
        return sxx == 0 ? double.NaN : sxy / sxx;
    }
}
