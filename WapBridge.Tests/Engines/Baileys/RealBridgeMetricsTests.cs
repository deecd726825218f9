using System.Diagnostics;
using System.Globalization;
using WapBridge.Core.Telemetry;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// Bridge metrics run alone, after the parallel tests: meters are process-wide, so another host's bridge #1 would
/// report under the same series as this one's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BridgeMetricsCollection
{
    public const string Name = "Bridge metrics";
}

/// <summary>
/// Issue 21: the real bridge reports its memory and event-loop lag every <c>StatsInterval</c>; the host keeps the last
/// report per process and exports it at <c>/metrics</c> with the sessions per process and the restarts of crashed ones.
/// </summary>
[Collection(BridgeMetricsCollection.Name)]
public sealed class RealBridgeMetricsTests
{
    private static async Task<(WapBridgeApp App, HttpClient Admin)> StartWithOneSessionAsync()
    {
        var app = new WapBridgeApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Enabled"] = "true",
            ["WapBridge:Engines:Baileys:BridgeDirectory"] = RealBridgeTests.RequireBridge(),
            ["WapBridge:Engines:Baileys:StatsInterval"] = "00:00:00.200",
            ["WapBridge:Engines:Baileys:RestartDelay"] = "00:00:00.100",
        });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        // The session cannot reach the test host's closed loopback port; its bridge process serves it all the same.
        (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk();
        return (app, app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken));
    }

    private static async Task<BridgeProcessSnapshot> WaitForStatsAsync(WapBridgeApp app, Func<BridgeProcessSnapshot, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var measured = app.Engine().Supervisor.Current().FirstOrDefault(p => p.MeasuredAt is not null && condition(p));
            if (measured is not null)
                return measured;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no stats from the bridge within 30 s: " +
                string.Join(", ", app.Engine().Supervisor.Current()));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task The_bridges_stats_arrive_every_interval_and_show_in_metrics()
    {
        var (app, admin) = await StartWithOneSessionAsync();
        await using var _ = app;
        using var __ = admin;

        var first = await WaitForStatsAsync(app, p => p.Sessions == 1);
        Assert.Equal(1, first.Number);
        Assert.InRange(first.RssBytes!.Value, 20L << 20, 2L << 30);
        Assert.InRange(first.HeapUsedBytes!.Value, 1L << 20, first.RssBytes.Value);
        Assert.InRange(first.EventLoopLag!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        // Reports keep coming: a later one replaces the first.
        var later = await WaitForStatsAsync(app, p => p.MeasuredAt > first.MeasuredAt);
        Assert.Equal(first.ProcessId, later.ProcessId);

        var metrics = await ScrapeAsync(admin);
        var rss = metrics.Value("wapbridge_bridge_memory_bytes", ("process", "1"), ("type", "rss"));
        var heap = metrics.Value("wapbridge_bridge_memory_bytes", ("process", "1"), ("type", "heap_used"));
        Assert.InRange(rss, 20 << 20, 2L << 30);
        Assert.InRange(heap, 1 << 20, rss);
        Assert.InRange(metrics.Value("wapbridge_bridge_event_loop_lag_seconds", ("process", "1")), 0, 5);
        Assert.Equal(1, metrics.Value("wapbridge_bridge_sessions", ("process", "1")));
        Assert.Equal(0, metrics.Value("wapbridge_bridge_restarts_total"));
    }

    [Fact]
    public async Task A_killed_bridge_process_counts_a_restart_and_its_successor_reports()
    {
        var (app, admin) = await StartWithOneSessionAsync();
        await using var _ = app;
        using var __ = admin;
        var supervisor = app.Engine().Supervisor;
        var first = await WaitForStatsAsync(app, p => p.Sessions == 1);
        Assert.Equal(1, (await ScrapeAsync(admin)).Value("wapbridge_bridge_sessions", ("process", "1")));

        Assert.Single(supervisor.Processes).Kill();

        var successor = await WaitForStatsAsync(app, p => p.Number == 2 && p.Sessions == 1);
        Assert.NotEqual(first.ProcessId, successor.ProcessId);
        Assert.Equal(1, supervisor.Restarts);
        var metrics = await ScrapeAsync(admin);
        Assert.Equal(1, metrics.Value("wapbridge_bridge_restarts_total"));
        Assert.Equal(1, metrics.Value("wapbridge_bridge_sessions", ("process", "2")));
        Assert.True(metrics.Value("wapbridge_bridge_memory_bytes", ("process", "2"), ("type", "rss")) > 0);
        // The dead process's series end with it, rather than repeating its last report.
        Assert.Equal(0, metrics.Count("wapbridge_bridge_sessions", ("process", "1")));
        Assert.Equal(0, metrics.Count("wapbridge_bridge_memory_bytes", ("process", "1")));
    }

    private static async Task<Samples> ScrapeAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return new Samples(text);
    }

    /// <summary>The samples of a Prometheus text exposition: <c>name{label="value",…} number</c> lines.</summary>
    private sealed class Samples(string text)
    {
        private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = text.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(Parse).ToList();

        // Enough for the bridge series: label values without escaped quotes; an optional timestamp after the value.
        private static (string, Dictionary<string, string>, double) Parse(string line)
        {
            var close = line.LastIndexOf('}');
            var brace = close < 0 ? -1 : line.IndexOf('{', StringComparison.Ordinal);
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                foreach (var pair in line[(brace + 1)..close].Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                }
            }
            var rest = line[(brace >= 0 ? close + 1 : 0)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var name = brace >= 0 ? line[..brace] : rest[0];
            var value = brace >= 0 ? rest[0] : rest[1];
            return (name, labels, double.Parse(value, CultureInfo.InvariantCulture));
        }

        public int Count(string name, params (string Key, string Value)[] labels) => Matching(name, labels).Count;

        private List<(string Name, Dictionary<string, string> Labels, double Value)> Matching(string name, (string Key, string Value)[] labels) =>
            _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToList();

        public double Value(string name, params (string Key, string Value)[] labels)
        {
            var matching = Matching(name, labels);
            Assert.True(matching.Count == 1, $"{matching.Count} samples of {name} {string.Join(",", labels)} in:\n" +
                string.Join("\n", _samples.Where(s => s.Name.StartsWith("wapbridge_bridge", StringComparison.Ordinal)).Select(s => $"{s.Name} {string.Join(",", s.Labels)} {s.Value}")));
            return matching[0].Value;
        }
    }
}
