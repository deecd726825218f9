using System.Diagnostics;
using WapBridge.Core.Telemetry;
using WapBridge.Tests.Telemetry;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// Issue 21: the real bridge reports its memory and event-loop lag every <c>StatsInterval</c>; the host keeps the last
/// report per process and exports it at <c>/metrics</c> with the sessions per process and the restarts of crashed ones.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class RealBridgeMetricsTests
{
    private static async Task<WapBridgeApp> StartWithOneSessionAsync()
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
        return app;
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
        await using var app = await StartWithOneSessionAsync();

        var first = await WaitForStatsAsync(app, p => p.Sessions == 1);
        Assert.Equal(1, first.Number);
        Assert.InRange(first.RssBytes!.Value, 20L << 20, 2L << 30);
        Assert.InRange(first.HeapUsedBytes!.Value, 1L << 20, first.RssBytes.Value);
        Assert.InRange(first.EventLoopLag!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        // Reports keep coming: a later one replaces the first.
        var later = await WaitForStatsAsync(app, p => p.MeasuredAt > first.MeasuredAt);
        Assert.Equal(first.ProcessId, later.ProcessId);

        var metrics = await PrometheusText.ScrapeAsync(app, TestContext.Current.CancellationToken);
        var rss = metrics.Value("wapbridge_bridge_memory_bytes", ("process", "1"), ("type", "rss")) ?? -1;
        var heap = metrics.Value("wapbridge_bridge_memory_bytes", ("process", "1"), ("type", "heap_used")) ?? -1;
        Assert.InRange(rss, 20 << 20, 2L << 30);
        Assert.InRange(heap, 1 << 20, rss);
        Assert.InRange(metrics.Value("wapbridge_bridge_event_loop_lag_seconds", ("process", "1")) ?? -1, 0, 5);
        Assert.Equal(1, metrics.Value("wapbridge_bridge_sessions", ("process", "1")));
        Assert.Equal(0, metrics.Value("wapbridge_bridge_restarts_total"));
    }

    [Fact]
    public async Task A_killed_bridge_process_counts_a_restart_and_its_successor_reports()
    {
        await using var app = await StartWithOneSessionAsync();
        var supervisor = app.Engine().Supervisor;
        var first = await WaitForStatsAsync(app, p => p.Sessions == 1);
        Assert.Equal(1, (await PrometheusText.ScrapeAsync(app, TestContext.Current.CancellationToken)).Value("wapbridge_bridge_sessions", ("process", "1")));

        Assert.Single(supervisor.Processes).Kill();

        var successor = await WaitForStatsAsync(app, p => p.Number == 2 && p.Sessions == 1);
        Assert.NotEqual(first.ProcessId, successor.ProcessId);
        Assert.Equal(1, supervisor.Restarts);
        var metrics = await PrometheusText.ScrapeAsync(app, TestContext.Current.CancellationToken);
        Assert.Equal(1, metrics.Value("wapbridge_bridge_restarts_total"));
        Assert.Equal(1, metrics.Value("wapbridge_bridge_sessions", ("process", "2")));
        Assert.True(metrics.Value("wapbridge_bridge_memory_bytes", ("process", "2"), ("type", "rss")) > 0);
        // The dead process's series end with it, rather than repeating its last report.
        Assert.Empty(metrics.Find("wapbridge_bridge_sessions", ("process", "1")));
        Assert.Empty(metrics.Find("wapbridge_bridge_memory_bytes", ("process", "1")));
    }
}
