using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Telemetry;

public static class MetricsScenarioSettings
{
    public static Dictionary<string, string?> Settings() => FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
        ["WapBridge:Hangfire:WorkerCount"] = "2",
        ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
        // One retry, soon: a receiver that keeps failing makes a delivery dead within the test.
        ["WapBridge:Webhooks:RetrySchedule:0"] = "00:00:00.200",
        ["WapBridge:Telemetry:GaugeInterval"] = "00:00:01",
    });
}

public sealed class SqliteMetricsScenarioApp() : WapBridgeApp("sqlite", MetricsScenarioSettings.Settings());

public sealed class PostgresMetricsScenarioApp() : WapBridgeApp("postgres", MetricsScenarioSettings.Settings());

/// <summary>
/// The scripted scenario on the simulator, through the API as a customer would: sends (sent, delivered, read), a
/// send to a number not on WhatsApp, inbound messages, webhooks to a receiver answering 200 and one answering 500 until
/// the delivery is dead, a small campaign; then <c>/metrics</c>, scraped with the admin token, shows each event counted
/// once with its labels.
/// </summary>
public abstract class MetricsScenarioTests(WapBridgeApp app)
{
    private const string Campaigns = "wap_bridge.api.campaigns.";

    [Fact]
    public async Task Metrics_count_each_send_receipt_inbound_webhook_and_campaign_once_with_their_labels()
    {
        app.SkipIfUnavailable();
        await using var accepting = await WebhookReceiver.StartAsync();
        await using var refusing = await WebhookReceiver.StartAsync();
        refusing.Respond = _ => (500, TimeSpan.Zero, null);

        var a = await app.CreateConnectedAsync();
        var b = await app.CreateConnectedAsync();
        (await a.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = accepting.Url, events = new[] { "message" } })).EnsureOk();
        (await b.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = refusing.Url, events = new[] { "message" } })).EnsureOk();

        // Two sends that are delivered and read, and one to a number WhatsApp does not know.
        var sends = new List<string>();
        foreach (var to in new[] { "255755123456", "255755123457" })
            sends.Add((await a.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = a.InstanceId, to_number = to, message = "Hello" }))
                .EnsureOk().Message!["id"]!.GetValue<string>());
        var refused = (await a.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = a.InstanceId, to_number = "255755129999", message = "Anyone?" })).EnsureOk().Message!;
        Assert.Equal("failed", refused["status"]!.GetValue<string>());
        foreach (var id in sends)
            await a.Client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() == "read");

        // Inbound: A's webhook is delivered, B's receiver refuses it until it is dead.
        (await a.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = a.InstanceId, from_number = "255755111222", message = "Hi A" })).EnsureOk();
        (await b.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = b.InstanceId, from_number = "255755111333", message = "Hi B" })).EnsureOk();

        // A small campaign of two.
        var campaign = (await a.Client.CallAsync(Campaigns + "create_and_start_campaign", new
        {
            instance_id = a.InstanceId, message = "Offer", recipients = new[] { "255757111111", "255757222222" },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        await WaitForAsync(async () =>
        {
            var status = (await a.Client.CallAsync(Campaigns + "campaign_status", new { campaign })).EnsureOk().Message!;
            return status["status"]!.GetValue<string>() == "completed" && status["read"]!.GetValue<int>() == 2;
        }, "the campaign to complete and be read");
        await accepting.WaitForAsync(r => r.Count == 1);
        await refusing.WaitForAsync(r => r.Count == 2);

        var (ca, ia, cb, ib) = (a.Customer.Code, a.InstanceId, b.Customer.Code, b.InstanceId);
        (string, string)[] OfA(params (string, string)[] more) => [("customer", ca), ("instance_id", ia), .. more];
        var expected = new List<(string Name, (string Key, string Value)[] Labels, double Value)>
        {
            ("wapbridge_messages_accepted_total", OfA(("kind", "text"), ("source", "api")), 3),
            ("wapbridge_messages_accepted_total", OfA(("kind", "text"), ("source", "campaign")), 2),
            ("wapbridge_messages_outcomes_total", OfA(("kind", "text"), ("outcome", "sent")), 4),
            ("wapbridge_messages_outcomes_total", OfA(("kind", "text"), ("outcome", "delivered")), 4),
            ("wapbridge_messages_outcomes_total", OfA(("kind", "text"), ("outcome", "read")), 4),
            ("wapbridge_messages_outcomes_total", OfA(("kind", "text"), ("outcome", "failed"), ("reason", "not_on_whatsapp")), 1),
            ("wapbridge_messages_send_latency_seconds_count", OfA(), 4),
            ("wapbridge_messages_receipt_lag_seconds_count", OfA(), 4),
            ("wapbridge_messages_inbound_total", OfA(("kind", "text")), 1),
            ("wapbridge_messages_inbound_total", [("customer", cb), ("instance_id", ib), ("kind", "text")], 1),
            ("wapbridge_webhooks_deliveries_total", [("customer", ca), ("event", "message"), ("outcome", "delivered")], 1),
            ("wapbridge_webhooks_deliveries_total", [("customer", cb), ("event", "message"), ("outcome", "failed")], 1),
            ("wapbridge_webhooks_deliveries_total", [("customer", cb), ("event", "message"), ("outcome", "dead")], 1),
            ("wapbridge_campaigns_sends_total", OfA(("outcome", "sent")), 2),
            // The database gauges (helper A's), once their next reading saw the scenario end: both instances connected,
            // nothing left in the outbox or the webhook backlog.
            ("wapbridge_instances_state", OfA(("engine", "simulator"), ("state", "connected")), 1),
            ("wapbridge_instances_state", [("customer", cb), ("instance_id", ib), ("engine", "simulator"), ("state", "connected")], 1),
        };
        double Zero(double? gauge) => gauge ?? 0; // a gauge with nothing to count may show 0 or no sample
        var scrape = await PrometheusText.ScrapeUntilAsync(app, m => expected.All(e => m.Value(e.Name, e.Labels) == e.Value)
                && Zero(m.Value("wapbridge_outbox_depth", OfA())) == 0 && Zero(m.Value("wapbridge_webhooks_backlog", ("customer", cb))) == 0,
            TimeSpan.FromSeconds(30), "the scenario counted");

        // Nothing else was counted: no other outcome, no send of B's, no other webhook outcome.
        Assert.Equal(3 + 2, scrape.Sum("wapbridge_messages_accepted_total"));
        Assert.Equal(4 * 3 + 1, scrape.Sum("wapbridge_messages_outcomes_total"));
        Assert.Equal(3, scrape.Sum("wapbridge_webhooks_deliveries_total"));
        Assert.Equal(2, scrape.Sum("wapbridge_campaigns_sends_total"));
        Assert.Equal(2, scrape.Sum("wapbridge_messages_inbound_total"));
        Assert.Empty(scrape.Find("wapbridge_messages_outcomes_total", ("instance_id", ib)));
        Assert.Equal(0, scrape.Sum("wapbridge_instances_state", ("instance_id", ia), ("state", "disconnected")));
        Assert.Equal(0, Zero(scrape.Value("wapbridge_outbox_oldest_age_seconds", OfA())));
        Assert.Equal(0, Zero(scrape.Value("wapbridge_webhooks_oldest_age_seconds", ("customer", cb))));
        // A finished campaign drops out of the recipients gauge.
        Assert.Empty(scrape.Find("wapbridge_campaigns_recipients", ("campaign", campaign)));

        // Latency and lag are real durations: the simulator delivers 100 ms after the send, and every send took some time.
        var lag = scrape.Value("wapbridge_messages_receipt_lag_seconds_sum", OfA())!.Value;
        Assert.InRange(lag / 4, 0.05, 5);
        Assert.InRange(scrape.Value("wapbridge_messages_send_latency_seconds_sum", OfA())!.Value, 0.000001, 20);
        Assert.Equal(0, scrape.Value("wapbridge_messages_receipt_lag_seconds_bucket", OfA(("le", "0.01"))));
        Assert.Equal(4, scrape.Value("wapbridge_messages_receipt_lag_seconds_bucket", OfA(("le", "+Inf"))));

        // WhatsApp may send a receipt again: applied to messages already read, it counts nothing more.
        List<(int InstanceId, string WaMessageId)> read;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
            read = (await db.Messages.Where(m => m.Direction == Message.Outbound && m.Status == MessageStatus.Read)
                .Select(m => new { m.InstanceId, m.WaMessageId }).ToListAsync(TestContext.Current.CancellationToken)).ConvertAll(m => (m.InstanceId, m.WaMessageId));
        Assert.Equal(4, read.Count);
        await app.Services.GetRequiredService<MessageReceipts>().ApplyAsync([.. read.SelectMany(m => new[] { MessageAck.Server, MessageAck.Device, MessageAck.Read }
            .Select(ack => (m.InstanceId, new MessageStatusEvent(ia, DateTimeOffset.UtcNow, m.WaMessageId, ack))))]);
        // Past the exporter's cache of the last scrape (300 ms), so this one is read afresh.
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        var again = await PrometheusText.ScrapeAsync(app, TestContext.Current.CancellationToken);
        foreach (var outcome in new[] { "sent", "delivered", "read" })
            Assert.Equal(4, again.Value("wapbridge_messages_outcomes_total", OfA(("kind", "text"), ("outcome", outcome))));
        Assert.Equal(4, again.Value("wapbridge_messages_receipt_lag_seconds_count", OfA()));
    }

    private static async Task WaitForAsync(Func<Task<bool>> done, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {seconds} s for {what}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}

[Collection(MetricsCollection.Name)]
public sealed class SqliteMetricsScenarioTests(SqliteMetricsScenarioApp app) : MetricsScenarioTests(app), IClassFixture<SqliteMetricsScenarioApp>;

[Collection(MetricsCollection.Name)]
public sealed class PostgresMetricsScenarioTests(PostgresMetricsScenarioApp app) : MetricsScenarioTests(app), IClassFixture<PostgresMetricsScenarioApp>;
