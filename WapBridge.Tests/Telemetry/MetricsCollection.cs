namespace WapBridge.Tests.Telemetry;

/// <summary>
/// Meters are process-wide (OpenTelemetry listens to every meter named WapBridge in the process, whichever host made
/// it): tests that expect exact metric values run alone, after the parallel ones, so no other test's gateway adds to
/// the counts or reports under the same labels (customer codes and bridge numbers repeat across test databases).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}
