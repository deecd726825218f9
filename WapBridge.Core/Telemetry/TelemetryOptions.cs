namespace WapBridge.Core.Telemetry;

/// <summary>Section <c>WapBridge:Telemetry</c>: metrics, the Prometheus endpoint and the optional OTLP export.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "WapBridge:Telemetry";

    /// <summary>
    /// WapBridge's metrics and the <c>/metrics</c> endpoint (404 when off). Traces are kept either way: a message's trace
    /// id is stored with it.
    /// </summary>
    public bool Metrics { get; set; } = true;

    /// <summary>An OTLP collector (e.g. <c>http://collector:4317</c>) to push metrics and traces to; unset, nothing is pushed.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>How often the gauges read from the database (outbox depth, webhook backlog, campaign recipients, …) are re-read.</summary>
    public TimeSpan GaugeInterval { get; set; } = TimeSpan.FromSeconds(15);
}
