using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Telemetry;

/// <summary>A gateway whose database gauges are re-read every second (the shortest interval allowed).</summary>
public sealed class SqliteGaugeApp() : WapBridgeApp("sqlite", GaugeHost.Settings());

public sealed class PostgresGaugeApp() : WapBridgeApp("postgres", GaugeHost.Settings());

public static class GaugeHost
{
    public static Dictionary<string, string?> Settings() =>
        FastMessaging.Settings(new Dictionary<string, string?> { ["WapBridge:Telemetry:GaugeInterval"] = "00:00:01" });
}

/// <summary>
/// Issue 21: the gauges read from the database (instance state, outbox depth and oldest age, webhook backlog and
/// oldest age, campaign recipients per state, health score) show the stored figures, labelled by customer and
/// instance, and follow the rows as they change. Rows that are slow to reach through the API (an old queued message,
/// a webhook delivery waiting for its retry, a half-done campaign) are written to the database directly.
/// </summary>
public abstract class GaugeMetricsTests(WapBridgeApp app)
{
    private const string State = "wapbridge_instances_state";
    private const string Depth = "wapbridge_outbox_depth";
    private const string OutboxAge = "wapbridge_outbox_oldest_age_seconds";
    private const string Backlog = "wapbridge_webhooks_backlog";
    private const string WebhookAge = "wapbridge_webhooks_oldest_age_seconds";
    private const string Recipients = "wapbridge_campaigns_recipients";
    private const string Health = "wapbridge_instances_health_score";

    private async Task<T> InDbAsync<T>(Func<WapBridgeDbContext, Task<T>> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>());
    }

    private static Message Outbound(int customerId, int instanceId, MessageStatus status, DateTimeOffset createdAt)
    {
        var id = "3EB0" + Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();
        return new Message
        {
            CustomerId = customerId,
            InstanceId = instanceId,
            Direction = Message.Outbound,
            WaMessageId = id,
            SerializedId = "true_255755000001@c.us_" + id,
            ToNumber = "255755000001",
            Chat = "255755000001",
            Type = "text",
            Body = "seeded",
            Status = status,
            Source = MessageSources.Api,
            CreatedAt = createdAt,
        };
    }

    private static WebhookDelivery Delivery(int customerId, int endpointId, DeliveryState state, DateTimeOffset createdAt) => new()
    {
        CustomerId = customerId,
        EndpointId = endpointId,
        EventId = "evt_" + Guid.NewGuid().ToString("N"),
        EventType = "message.status",
        Payload = "{}",
        State = state,
        // Far ahead: the dispatcher leaves a pending delivery alone until then, so the backlog stays as seeded.
        NextAttemptAt = createdAt.AddDays(1),
        CreatedAt = createdAt,
    };

    private static (string, string) L(string key, string value) => (key, value);

    [Fact]
    public async Task Database_gauges_show_the_stored_figures_by_customer_and_instance_and_follow_changes()
    {
        app.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var shop = await app.CreateConnectedAsync();
        var idle = (await shop.Client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" }))
            .EnsureOk().Message!["instance_id"]!.GetValue<string>();
        var quiet = await app.CreateCustomerAsync();
        var customer = shop.Customer.Code;
        var now = DateTimeOffset.UtcNow;
        var campaignCode = $"WAP-CAM-9{Random.Shared.Next(100, 999)}";
        var doneCode = $"WAP-CAM-8{Random.Shared.Next(100, 999)}";

        var (oldestMessageId, oldestDeliveryId) = await InDbAsync(async db =>
        {
            var customerId = await db.Customers.Where(c => c.Code == customer).Select(c => c.Id).SingleAsync(ct);
            var connected = await db.Instances.SingleAsync(i => i.Code == shop.InstanceId, ct);
            var waiting = await db.Instances.SingleAsync(i => i.Code == idle, ct);
            // The idle instance never connects, so what is queued on it stays queued.
            var oldest = Outbound(customerId, waiting.Id, MessageStatus.Queued, now.AddSeconds(-300));
            db.Messages.AddRange(
                oldest,
                Outbound(customerId, waiting.Id, MessageStatus.Queued, now.AddSeconds(-100)),
                Outbound(customerId, waiting.Id, MessageStatus.Sending, now.AddSeconds(-10)),
                Outbound(customerId, connected.Id, MessageStatus.Delivered, now.AddSeconds(-900)),
                Outbound(customerId, waiting.Id, MessageStatus.Failed, now.AddSeconds(-2000)));
            var endpoint = new WebhookEndpoint { CustomerId = customerId, Url = "http://127.0.0.1:9/hook", CreatedAt = now, UpdatedAt = now };
            db.WebhookEndpoints.Add(endpoint);
            await db.SaveChangesAsync(ct);
            var oldestDelivery = Delivery(customerId, endpoint.Id, DeliveryState.Pending, now.AddSeconds(-600));
            db.WebhookDeliveries.AddRange(
                oldestDelivery,
                Delivery(customerId, endpoint.Id, DeliveryState.Pending, now.AddSeconds(-60)),
                Delivery(customerId, endpoint.Id, DeliveryState.Delivered, now.AddSeconds(-3000)),
                Delivery(customerId, endpoint.Id, DeliveryState.Dead, now.AddSeconds(-4000)));
            // Counters as the runner keeps them, cumulative along the way: 5 sent, of which 3 delivered, of which 1 read.
            db.Campaigns.AddRange(
                new Campaign
                {
                    Code = campaignCode, CustomerId = customerId, InstanceId = waiting.Id, Name = "Seeded", MessageText = "Hi",
                    State = CampaignState.Paused, PausedReason = "paused by the owner", CreatedAt = now,
                    Total = 11, Pending = 3, Sent = 5, Delivered = 3, Read = 1, Failed = 1, Invalid = 1, Duplicates = 1,
                },
                new Campaign
                {
                    Code = doneCode, CustomerId = customerId, InstanceId = waiting.Id, Name = "Done", MessageText = "Hi",
                    State = CampaignState.Completed, CreatedAt = now, CompletedAt = now, Total = 2, Sent = 2,
                });
            await db.SaveChangesAsync(ct);
            return (oldest.Id, oldestDelivery.Id);
        });
        var idleState = (await shop.Client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = idle })).EnsureOk()
            .Message!["status"]!.GetValue<string>();

        var scrape = await PrometheusText.ScrapeUntilAsync(app,
            s => s.Value(Depth, L("instance_id", idle)) == 3 && s.Value(Backlog, L("customer", customer)) == 2
                && s.Find(Recipients, L("campaign", campaignCode)).Count > 0
                && s.Value(State, L("instance_id", idle), L("state", idleState)) == 1
                && s.Value(Health, L("instance_id", shop.InstanceId)) is not null,
            describe: "the seeded outbox, webhook backlog and campaign");


        foreach (var name in new[] { State, Depth, OutboxAge, Backlog, WebhookAge, Recipients, Health })
            Assert.Equal("gauge", scrape.Types[name]);

        // Instance state: 1 for the current state only, each instance once, labelled with its customer and engine.
        Assert.Equal(1, scrape.Value(State, L("customer", customer), L("instance_id", shop.InstanceId), L("engine", "simulator"), L("state", "connected")));
        Assert.Equal(1, scrape.Sum(State, L("instance_id", shop.InstanceId)));
        Assert.Equal(1, scrape.Sum(State, L("instance_id", idle)));
        Assert.Equal(Enum.GetValues<InstanceState>().Length, scrape.Find(State, L("instance_id", shop.InstanceId)).Count);

        // Outbox: queued and sending outbound rows; the age of the oldest one.
        Assert.Equal(3, scrape.Value(Depth, L("customer", customer), L("instance_id", idle)));
        Assert.Equal(0, scrape.Value(Depth, L("customer", customer), L("instance_id", shop.InstanceId)));
        Assert.InRange(scrape.Value(OutboxAge, L("instance_id", idle))!.Value, 300, 360);
        Assert.Equal(0, scrape.Value(OutboxAge, L("instance_id", shop.InstanceId)));

        // Webhooks: pending deliveries only, per customer; a customer without any reads 0.
        Assert.Equal(2, scrape.Value(Backlog, L("customer", customer)));
        Assert.InRange(scrape.Value(WebhookAge, L("customer", customer))!.Value, 600, 660);
        Assert.Equal(0, scrape.Value(Backlog, L("customer", quiet.Code)));
        Assert.Equal(0, scrape.Value(WebhookAge, L("customer", quiet.Code)));

        // Campaign recipients by their current state; a finished campaign is not shown.
        var expected = new Dictionary<string, double>
        {
            ["pending"] = 3, ["sent"] = 2, ["delivered"] = 2, ["read"] = 1, ["failed"] = 1, ["invalid"] = 1, ["duplicate"] = 1, ["skipped"] = 0,
        };
        foreach (var (state, count) in expected)
            Assert.Equal(count, scrape.Value(Recipients, L("customer", customer), L("campaign", campaignCode), L("state", state)));
        Assert.Equal(expected.Count, scrape.Find(Recipients, L("campaign", campaignCode)).Count);
        Assert.Empty(scrape.Find(Recipients, L("campaign", doneCode)));

        // Health: the score as last judged and stored; an instance never judged has none.
        var judged = await InDbAsync(db => db.Instances.Where(i => i.Code == shop.InstanceId).Select(i => i.HealthScore).SingleAsync(ct));
        Assert.Equal(judged, scrape.Value(Health, L("customer", customer), L("instance_id", shop.InstanceId)));

        // Only the contract's labels (and the exporter's own scope labels): never a message id, number or URL.
        string[] allowed = ["customer", "instance_id", "engine", "state", "campaign", "otel_scope_name", "otel_scope_version"];
        string[] gauges = [State, Depth, OutboxAge, Backlog, WebhookAge, Recipients, Health];
        foreach (var sample in scrape.Samples.Where(s => gauges.Contains(s.Name)))
            Assert.All(sample.Labels.Keys, key => Assert.Contains(key, allowed));
        Assert.DoesNotContain(scrape.Samples, s => s.Labels.ContainsKey("customer") && s.Labels["customer"] != customer && s.Labels["customer"] != quiet.Code
            && s.Labels.TryGetValue("instance_id", out var instance) && (instance == idle || instance == shop.InstanceId));

        // Things change: the connected number is banned (disconnected, health drops), a queued message fails, the
        // oldest delivery is delivered, the campaign completes.
        (await shop.Client.CallAsync("wap_bridge.api.simulator.set_conditions",
            new { instance_id = shop.InstanceId, banned_until = DateTimeOffset.UtcNow.AddHours(1) })).EnsureOk();
        await shop.Client.WaitForStatusAsync(shop.InstanceId, "disconnected", 10);
        var score = await WaitForScoreBelowAsync(shop.InstanceId, 100);
        await InDbAsync(async db =>
        {
            await db.Messages.Where(m => m.Id == oldestMessageId).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MessageStatus.Failed), ct);
            await db.WebhookDeliveries.Where(d => d.Id == oldestDeliveryId).ExecuteUpdateAsync(u => u.SetProperty(d => d.State, DeliveryState.Delivered), ct);
            return await db.Campaigns.Where(c => c.Code == campaignCode).ExecuteUpdateAsync(u => u.SetProperty(c => c.State, CampaignState.Completed), ct);
        });

        var after = await PrometheusText.ScrapeUntilAsync(app,
            s => s.Value(Depth, L("instance_id", idle)) == 2 && s.Value(Backlog, L("customer", customer)) == 1
                && s.Value(State, L("instance_id", shop.InstanceId), L("state", "disconnected")) == 1
                && s.Value(Health, L("instance_id", shop.InstanceId)) == score
                && s.Find(Recipients, L("campaign", campaignCode)).Count == 0,
            describe: "the changed rows");
        Assert.Equal(0, after.Value(State, L("instance_id", shop.InstanceId), L("state", "connected")));
        Assert.Equal(1, after.Sum(State, L("instance_id", shop.InstanceId)));
        Assert.InRange(after.Value(OutboxAge, L("instance_id", idle))!.Value, 100, 160);
        Assert.InRange(after.Value(WebhookAge, L("customer", customer))!.Value, 60, 120);
        Assert.Equal(customer, Assert.Single(after.Find(Health, L("instance_id", shop.InstanceId))).Labels["customer"]);
    }

    private async Task<int> WaitForScoreBelowAsync(string instanceCode, int below)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var score = await InDbAsync(db => db.Instances.Where(i => i.Code == instanceCode).Select(i => i.HealthScore).SingleAsync());
            if (score < below)
                return score.Value;
            Assert.True(DateTime.UtcNow < deadline, $"the health score of {instanceCode} stayed {score?.ToString() ?? "unset"}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}

[Collection(MetricsCollection.Name)]
public sealed class SqliteGaugeMetricsTests(SqliteGaugeApp app) : GaugeMetricsTests(app), IClassFixture<SqliteGaugeApp>;

[Collection(MetricsCollection.Name)]
public sealed class PostgresGaugeMetricsTests(PostgresGaugeApp app) : GaugeMetricsTests(app), IClassFixture<PostgresGaugeApp>;

/// <summary>A scrape hands out the last reading and never queries the database itself: scrapers cost the database nothing.</summary>
[Collection(MetricsCollection.Name)]
public sealed class GaugeSnapshotTests
{
    [Fact]
    public async Task Scrapes_show_the_last_reading_until_the_next_one()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:Telemetry:GaugeInterval"] = "01:00:00" });
        await app.InitializeAsync();
        var gauges = app.Services.GetRequiredService<WapBridge.Core.Telemetry.DatabaseGauges>();
        var customer = await app.CreateCustomerAsync();
        await gauges.RefreshAsync(ct);
        Assert.Equal(0, (await PrometheusText.ScrapeAsync(app, ct)).Value("wapbridge_webhooks_backlog", ("customer", customer.Code)));

        // A delivery waits now; the next reading is an hour away.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
            var customerId = await db.Customers.Where(c => c.Code == customer.Code).Select(c => c.Id).SingleAsync(ct);
            var now = DateTimeOffset.UtcNow;
            var endpoint = new WebhookEndpoint { CustomerId = customerId, Url = "http://127.0.0.1:9/hook", CreatedAt = now, UpdatedAt = now };
            db.WebhookEndpoints.Add(endpoint);
            await db.SaveChangesAsync(ct);
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                CustomerId = customerId, EndpointId = endpoint.Id, EventId = "evt_" + Guid.NewGuid().ToString("N"), EventType = "message.status",
                Payload = "{}", NextAttemptAt = now.AddDays(1), CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
        }
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, (await PrometheusText.ScrapeAsync(app, ct)).Value("wapbridge_webhooks_backlog", ("customer", customer.Code)));
            await Task.Delay(300, ct);
        }

        await gauges.RefreshAsync(ct);
        Assert.Equal(1, (await PrometheusText.ScrapeAsync(app, ct)).Value("wapbridge_webhooks_backlog", ("customer", customer.Code)));
    }
}
