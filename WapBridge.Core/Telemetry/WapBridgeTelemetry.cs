using System.Diagnostics;

namespace WapBridge.Core.Telemetry;

/// <summary>
/// WapBridge's own meter and activity source (both named <see cref="Name"/>), and the W3C <c>traceparent</c> kept on
/// rows, so work that a row hands from one process step to the next (accept → outbox → engine → webhook) stays one trace
/// even across a restart or another node.
/// </summary>
public static class WapBridgeTelemetry
{
    public const string Name = "WapBridge";

    public static readonly ActivitySource Source = new(Name);

    /// <summary>The current activity as a <c>traceparent</c> to store on a row, or null outside any trace.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The 32 hex digits of the trace id in <paramref name="traceParent"/>, or null when it is not a W3C traceparent.</summary>
    public static string? TraceIdOf(string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, out var context) ? context.TraceId.ToHexString() : null;

    /// <summary>
    /// Starts <paramref name="name"/> as a child of the stored <paramref name="traceParent"/> (when there is none or it
    /// cannot be read: of the current activity, else a new trace). Null when nothing listens to <see cref="Source"/>.
    /// </summary>
    public static Activity? StartFrom(string name, string? traceParent, ActivityKind kind = ActivityKind.Internal) =>
        ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind, parentContext: default);

    /// <summary>
    /// Starts <paramref name="name"/> as the root of a new trace, whatever activity is current: for work that has an
    /// ambient activity which is no cause of it (a dashboard circuit's connection, a loop started during a request).
    /// Call it in an async method: it clears <see cref="Activity.Current"/> for the rest of the caller's flow.
    /// </summary>
    public static Activity? StartRoot(string name, ActivityKind kind = ActivityKind.Internal)
    {
        Activity.Current = null;
        return Source.StartActivity(name, kind);
    }
}
