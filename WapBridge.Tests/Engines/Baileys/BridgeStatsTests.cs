using System.Text.Json;
using WapBridge.Core.Engines.Baileys;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The host's reading of the bridge's <c>stats</c> event (baileys-bridge/PROTOCOL.md, "Process stats").</summary>
[Trait("Category", "Unit")]
public sealed class BridgeStatsTests
{
    private static readonly DateTimeOffset Received = new(2026, 12, 5, 19, 0, 0, TimeSpan.Zero);

    private static BridgeStats? Read(string json) => BridgeStats.Read(JsonSerializer.Deserialize<JsonElement>(json), Received);

    [Fact]
    public void Memory_and_the_p99_lag_are_kept_with_the_time_the_host_received_them()
    {
        var stats = Read("""{"rss":98041856,"heapUsed":41234432,"heapTotal":52396032,"eventLoopLagMs":1.25,"eventLoopLagMeanMs":0.11,"eventLoopLagMaxMs":3,"sessions":3,"intervalMs":15000}""");

        Assert.Equal(new BridgeStats(98041856, 41234432, TimeSpan.FromMilliseconds(1.25), Received), stats);
    }

    [Fact]
    public void A_period_without_a_loop_sample_keeps_the_memory_and_no_lag()
    {
        Assert.Equal(new BridgeStats(300, 100, null, Received), Read("""{"rss":300,"heapUsed":100,"eventLoopLagMs":null}"""));
        Assert.Equal(new BridgeStats(300, 100, null, Received), Read("""{"rss":300,"heapUsed":100}"""));
    }

    [Theory]
    [InlineData("1e300", null)]
    [InlineData("\"slow\"", null)]
    [InlineData("-0.5", 0.0)]
    public void A_lag_that_is_no_measurement_is_left_out_and_never_throws(string lag, double? expectedMs) =>
        Assert.Equal(new BridgeStats(300, 100, expectedMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, Received),
            Read($$"""{"rss":300,"heapUsed":100,"eventLoopLagMs":{{lag}}}"""));

    [Theory]
    [InlineData("""{"heapUsed":100,"eventLoopLagMs":1}""")]
    [InlineData("""{"rss":"lots","heapUsed":100}""")]
    [InlineData("""{"rss":300.5,"heapUsed":100}""")]
    [InlineData("""[]""")]
    public void Stats_without_whole_byte_counts_are_not_taken(string json) => Assert.Null(Read(json));
}
