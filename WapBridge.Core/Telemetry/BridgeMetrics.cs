using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Hosting;

namespace WapBridge.Core.Telemetry;

/// <summary>
/// The bridge processes of this node as metrics: memory (<c>type</c> rss or heap_used) and event-loop lag from each
/// process's last <c>stats</c> report, its sessions, and the restarts of crashed processes. Observable: the callbacks
/// read <see cref="IBridgeProcesses.Current"/> (in memory) when a reader collects, and only then.
/// </summary>
/// <remarks>
/// A hosted service only so that the host creates it at start: the instruments must exist before the first scrape,
/// and nothing else asks for them.
/// </remarks>
internal sealed class BridgeMetrics : IHostedService
{
    public const string Memory = "wapbridge.bridge.memory";
    public const string EventLoopLag = "wapbridge.bridge.event_loop_lag";
    public const string Sessions = "wapbridge.bridge.sessions";
    public const string Restarts = "wapbridge.bridge.restarts";

    private readonly IBridgeProcesses _processes;

    public BridgeMetrics(IMeterFactory meterFactory, IBridgeProcesses processes)
    {
        _processes = processes;
        var meter = meterFactory.Create(WapBridgeTelemetry.Name);
        meter.CreateObservableGauge(Memory, MeasureMemory, unit: "By",
            description: "Memory of a Baileys bridge process of this node at its last report: type=rss (resident) or heap_used (V8 heap in use)");
        meter.CreateObservableGauge(EventLoopLag, MeasureLag, unit: "s",
            description: "Event-loop lag of a Baileys bridge process: 99th percentile over its last report period");
        meter.CreateObservableGauge(Sessions, MeasureSessions, unit: "{session}",
            description: "WhatsApp sessions served by a Baileys bridge process of this node");
        meter.CreateObservableCounter(Restarts, () => _processes.Restarts, unit: "{restart}",
            description: "Baileys bridge processes of this node started again after one died");
    }

    private IEnumerable<Measurement<long>> MeasureMemory()
    {
        foreach (var process in _processes.Current())
        {
            var label = Label(process);
            if (process.RssBytes is { } rss)
                yield return new Measurement<long>(rss, label, new("type", "rss"));
            if (process.HeapUsedBytes is { } heap)
                yield return new Measurement<long>(heap, label, new("type", "heap_used"));
        }
    }

    private IEnumerable<Measurement<double>> MeasureLag()
    {
        foreach (var process in _processes.Current())
            if (process.EventLoopLag is { } lag)
                yield return new Measurement<double>(lag.TotalSeconds, Label(process));
    }

    private IEnumerable<Measurement<int>> MeasureSessions() =>
        _processes.Current().Select(p => new Measurement<int>(p.Sessions, Label(p)));

    private static KeyValuePair<string, object?> Label(BridgeProcessSnapshot process) =>
        new("process", process.Number.ToString(CultureInfo.InvariantCulture));

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
