using System.Globalization;
using System.Text.Json.Nodes;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Telemetry;

/// <summary>
/// Meters are process-wide (OpenTelemetry listens to every meter named WapBridge in the process): these tests run
/// alone, so no other test's gateway adds to the counts they expect.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}

public static class MetricsScenarioSettings
{
    public static Dictionary<string, string?> Settings() => FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
        ["WapBridge:Hangfire:WorkerCount"] = "2",
        ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
        // One retry, soon: a receiver that keeps failing makes a delivery dead within the test.
        ["WapBridge:Webhooks:RetrySchedule:0"] = "00:00:00.200",
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
        string[] Labels(params string[] pairs) => pairs;
        var expected = new List<(string Name, string[] Labels, double Value)>
        {
            ("wapbridge_messages_accepted_total", Labels("customer", ca, "instance_id", ia, "kind", "text", "source", "api"), 3),
            ("wapbridge_messages_accepted_total", Labels("customer", ca, "instance_id", ia, "kind", "text", "source", "campaign"), 2),
            ("wapbridge_messages_outcomes_total", Labels("customer", ca, "instance_id", ia, "kind", "text", "outcome", "sent"), 4),
            ("wapbridge_messages_outcomes_total", Labels("customer", ca, "instance_id", ia, "kind", "text", "outcome", "delivered"), 4),
            ("wapbridge_messages_outcomes_total", Labels("customer", ca, "instance_id", ia, "kind", "text", "outcome", "read"), 4),
            ("wapbridge_messages_outcomes_total", Labels("customer", ca, "instance_id", ia, "kind", "text", "outcome", "failed", "reason", "not_on_whatsapp"), 1),
            ("wapbridge_messages_send_latency_seconds_count", Labels("customer", ca, "instance_id", ia), 4),
            ("wapbridge_messages_receipt_lag_seconds_count", Labels("customer", ca, "instance_id", ia), 4),
            ("wapbridge_messages_inbound_total", Labels("customer", ca, "instance_id", ia, "kind", "text"), 1),
            ("wapbridge_messages_inbound_total", Labels("customer", cb, "instance_id", ib, "kind", "text"), 1),
            ("wapbridge_webhooks_deliveries_total", Labels("customer", ca, "event", "message", "outcome", "delivered"), 1),
            ("wapbridge_webhooks_deliveries_total", Labels("customer", cb, "event", "message", "outcome", "failed"), 1),
            ("wapbridge_webhooks_deliveries_total", Labels("customer", cb, "event", "message", "outcome", "dead"), 1),
            ("wapbridge_campaigns_sends_total", Labels("customer", ca, "instance_id", ia, "outcome", "sent"), 2),
        };

        // Each count is recorded just after its commit, which the API may answer before: wait for the last of them.
        Scrape scrape = new([]);
        await WaitForAsync(async () =>
        {
            scrape = await ScrapeAsync();
            return expected.All(e => scrape.Value(e.Name, e.Labels) == e.Value);
        }, "the metrics to show the scenario", onTimeout: () => string.Join("\n", expected.Select(e => $"{e.Name} {string.Join(',', e.Labels)}: expected {e.Value}, got {scrape.Value(e.Name, e.Labels)}")));

        // Nothing else was counted: no other outcome, no send of B's, no other webhook outcome.
        Assert.Equal(3 + 2, scrape.Sum("wapbridge_messages_accepted_total"));
        Assert.Equal(4 * 3 + 1, scrape.Sum("wapbridge_messages_outcomes_total"));
        Assert.Equal(3, scrape.Sum("wapbridge_webhooks_deliveries_total"));
        Assert.Equal(2, scrape.Sum("wapbridge_campaigns_sends_total"));
        Assert.Equal(2, scrape.Sum("wapbridge_messages_inbound_total"));
        Assert.DoesNotContain(scrape.Samples, s => s.Labels.ContainsKey("instance_id") && s.Labels["instance_id"] == ib && s.Name.StartsWith("wapbridge_messages_outcomes", StringComparison.Ordinal));

        // Latency and lag are real durations: the simulator delivers 100 ms after the send, and every send took some time.
        var lag = scrape.Value("wapbridge_messages_receipt_lag_seconds_sum", "customer", ca, "instance_id", ia)!.Value;
        Assert.InRange(lag / 4, 0.05, 5);
        Assert.InRange(scrape.Value("wapbridge_messages_send_latency_seconds_sum", "customer", ca, "instance_id", ia)!.Value, 0.000001, 20);
        Assert.Equal(0, scrape.Value("wapbridge_messages_receipt_lag_seconds_bucket", "customer", ca, "instance_id", ia, "le", "0.01"));
        Assert.Equal(4, scrape.Value("wapbridge_messages_receipt_lag_seconds_bucket", "customer", ca, "instance_id", ia, "le", "+Inf"));
    }

    private async Task<Scrape> ScrapeAsync()
    {
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var response = await admin.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        return Scrape.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task WaitForAsync(Func<Task<bool>> done, string what, int seconds = 30, Func<string>? onTimeout = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {seconds} s for {what}" + (onTimeout is null ? "" : ":\n" + onTimeout()));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}

/// <summary>The samples of a Prometheus text exposition.</summary>
internal sealed record Scrape(IReadOnlyList<Scrape.Sample> Samples)
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>The value of the one sample with this name and (at least) these label pairs; null when there is none.</summary>
    public double? Value(string name, params string[] labelPairs)
    {
        var matching = Samples.Where(s => s.Name == name && Has(s, labelPairs)).ToList();
        Assert.True(matching.Count <= 1, $"{matching.Count} samples of {name} match {string.Join(',', labelPairs)}");
        return matching.Count == 0 ? null : matching[0].Value;
    }

    public double Sum(string name) => Samples.Where(s => s.Name == name).Sum(s => s.Value);

    private static bool Has(Sample sample, string[] pairs)
    {
        for (var i = 0; i < pairs.Length; i += 2)
            if (!sample.Labels.TryGetValue(pairs[i], out var value) || value != pairs[i + 1])
                return false;
        return true;
    }

    public static Scrape Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var labels = new Dictionary<string, string>();
            var nameEnd = line.IndexOfAny(['{', ' ']);
            var rest = nameEnd;
            if (line[nameEnd] == '{')
            {
                rest = nameEnd + 1;
                while (line[rest] != '}')
                {
                    var eq = line.IndexOf('=', rest);
                    var key = line[rest..eq];
                    var value = new System.Text.StringBuilder();
                    var i = eq + 2; // past ="
                    for (; line[i] != '"'; i++)
                        value.Append(line[i] == '\\' ? line[++i] switch { 'n' => '\n', var c => c } : line[i]);
                    labels[key] = value.ToString();
                    rest = line[i + 1] == ',' ? i + 2 : i + 1;
                }
                rest++;
            }
            var number = line[(rest + 1)..].Split(' ')[0];
            samples.Add(new Sample(line[..nameEnd], labels, number switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(number, CultureInfo.InvariantCulture),
            }));
        }
        return new Scrape(samples);
    }
}

[Collection(MetricsCollection.Name)]
public sealed class SqliteMetricsScenarioTests(SqliteMetricsScenarioApp app) : MetricsScenarioTests(app), IClassFixture<SqliteMetricsScenarioApp>;

[Collection(MetricsCollection.Name)]
public sealed class PostgresMetricsScenarioTests(PostgresMetricsScenarioApp app) : MetricsScenarioTests(app), IClassFixture<PostgresMetricsScenarioApp>;
