using WapBridge.Tests.Api;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Telemetry;

/// <summary>
/// The telemetry settings (README "Metrics and traces"): one that makes no sense stops the start naming it as the
/// user writes it; sensible ones start a gateway that serves its metrics.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class TelemetrySettingsTests
{
    [Theory]
    [InlineData("WapBridge:Telemetry:GaugeInterval", "00:00:00.500",
        "WAPBRIDGE_Telemetry__GaugeInterval (WapBridge:Telemetry:GaugeInterval) is 00:00:00.5000000; it must be at least 00:00:01")]
    [InlineData("WapBridge:Telemetry:GaugeInterval", "-00:00:15", "WAPBRIDGE_Telemetry__GaugeInterval (WapBridge:Telemetry:GaugeInterval) is -00:00:15")]
    [InlineData("WapBridge:Telemetry:OtlpEndpoint", "ftp://collector.invalid:4317",
        "WAPBRIDGE_Telemetry__OtlpEndpoint (WapBridge:Telemetry:OtlpEndpoint) must be an absolute http:// or https:// address")]
    [InlineData("WapBridge:Telemetry:OtlpEndpoint", "collector.invalid:4317",
        "WAPBRIDGE_Telemetry__OtlpEndpoint (WapBridge:Telemetry:OtlpEndpoint) must be an absolute http:// or https:// address")]
    [InlineData("WapBridge:Telemetry:OtlpEndpoint", "otlp/v1",
        "WAPBRIDGE_Telemetry__OtlpEndpoint (WapBridge:Telemetry:OtlpEndpoint) must be an absolute http:// or https:// address")]
    [InlineData("WapBridge:Telemetry:Metrics", "maybe", "WapBridge:Telemetry:Metrics")]
    public async Task A_nonsensical_telemetry_setting_stops_the_start_naming_it(string key, string value, string message)
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await app.InitializeAsync());

        Assert.Contains(message, string.Join("\n", AuthFailureLimitTests.Flatten(error).Select(e => e.Message)));
    }

    [Fact]
    public async Task An_otlp_endpoint_and_a_gauge_interval_start_a_gateway_that_serves_its_metrics()
    {
        // A closed loopback port: the exporter's pushes are refused at once and nothing leaves the machine.
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Telemetry:OtlpEndpoint"] = "http://127.0.0.1:9",
            ["WapBridge:Telemetry:GaugeInterval"] = "00:00:02",
        });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();

        var scrape = await PrometheusText.ScrapeUntilAsync(app, s => s.Value("wapbridge_webhooks_backlog", ("customer", customer.Code)) == 0,
            describe: "the new customer's webhook backlog");

        Assert.Equal("gauge", scrape.Types["wapbridge_webhooks_backlog"]);
    }
}
