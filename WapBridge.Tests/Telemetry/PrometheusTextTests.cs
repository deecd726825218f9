namespace WapBridge.Tests.Telemetry;

/// <summary>The scrape parser the metrics tests rely on reads what exporters write, escapes and all.</summary>
public sealed class PrometheusTextTests
{
    private const string Scrape = """
        # HELP wapbridge_webhooks_deliveries_total Webhook attempts
        # TYPE wapbridge_webhooks_deliveries_total counter
        wapbridge_webhooks_deliveries_total{otel_scope_name="WapBridge",customer="CUST-0001",event="message.status",outcome="delivered"} 3 1764960000000
        wapbridge_webhooks_deliveries_total{otel_scope_name="WapBridge",customer="CUST-0001",event="message.status",outcome="failed"} 2
        wapbridge_webhooks_deliveries_total{customer="CUST-0002",event="a \"quoted\", {braced} \\ value",outcome="failed"} 1
        # TYPE wapbridge_messages_send_latency_seconds histogram
        wapbridge_messages_send_latency_seconds_bucket{customer="CUST-0001",le="+Inf"} 4
        wapbridge_messages_send_latency_seconds_sum{customer="CUST-0001"} 1.5e-1
        target_info 1
        # EOF
        """;

    [Fact]
    public void Parses_names_labels_values_and_types()
    {
        var text = PrometheusText.Parse(Scrape);

        Assert.Equal("counter", text.Types["wapbridge_webhooks_deliveries_total"]);
        Assert.Equal("histogram", text.Types["wapbridge_messages_send_latency_seconds"]);
        Assert.Equal(3, text.Value("wapbridge_webhooks_deliveries_total", ("customer", "CUST-0001"), ("outcome", "delivered")));
        Assert.Equal(6, text.Sum("wapbridge_webhooks_deliveries_total"));
        Assert.Equal(1, text.Value("wapbridge_webhooks_deliveries_total", ("event", "a \"quoted\", {braced} \\ value")));
        Assert.Equal("+Inf", text.Find("wapbridge_messages_send_latency_seconds_bucket").Single().Labels["le"]);
        Assert.Equal(0.15, text.Value("wapbridge_messages_send_latency_seconds_sum"));
        Assert.Equal(1, text.Value("target_info"));
        Assert.Null(text.Value("wapbridge_webhooks_deliveries_total", ("customer", "CUST-0003")));
    }

    [Fact]
    public void Value_refuses_to_pick_one_of_several_matching_samples()
    {
        var text = PrometheusText.Parse(Scrape);
        Assert.ThrowsAny<Exception>(() => text.Value("wapbridge_webhooks_deliveries_total", ("outcome", "failed")));
    }
}
