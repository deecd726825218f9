using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Webhooks;

public sealed class WebhookDurabilityTests
{
    [Fact]
    public async Task A_delivery_is_dead_after_the_whole_schedule_of_about_a_day()
    {
        var (services, dbFactory) = await StoreAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => (500, TimeSpan.Zero, null);

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));
        var options = Options.Create(new WebhookOptions { AllowLoopbackTargets = true });
        using var dispatcher = new WebhookDispatcher(dbFactory, services.GetRequiredService<IDataProtectionProvider>(), new WebhookSignal(), options, time,
            NullLogger<WebhookDispatcher>.Instance, new LoopbackOnlyConnector(),
            HandBuiltMetrics.For(dbFactory));

        var deliveryId = await SeedDeliveryAsync(dbFactory, receiver.Url, "evt_dead", "message", time.GetUtcNow(), time.GetUtcNow());

        var start = time.GetUtcNow();
        var gaps = new List<TimeSpan>();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await dispatcher.RunDueAsync(TestContext.Current.CancellationToken);
            await using var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            var row = await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId, TestContext.Current.CancellationToken);
            if (row.State == DeliveryState.Dead)
                break;
            var gap = row.NextAttemptAt - time.GetUtcNow();
            gaps.Add(gap);
            time.Advance(gap);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var dead = await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId, TestContext.Current.CancellationToken);
            Assert.Equal(DeliveryState.Dead, dead.State);
            Assert.Equal(8, dead.Attempts);
            Assert.Equal(500, dead.LastStatusCode);
        }
        Assert.Equal(8, receiver.Received.Count);
        Assert.Equal(7, gaps.Count);
        var schedule = WebhookOptions.DefaultRetrySchedule;
        for (var i = 0; i < 7; i++)
            Assert.InRange(gaps[i], schedule[i] * 0.8, schedule[i] * 1.2);
        var total = time.GetUtcNow() - start;
        Assert.InRange(total, TimeSpan.FromHours(33), TimeSpan.FromHours(50));
    }

    [Fact]
    public async Task A_receiver_that_turns_slow_gives_back_what_its_lane_cannot_attempt_in_time()
    {
        var (services, dbFactory) = await StoreAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var options = Options.Create(new WebhookOptions { AllowLoopbackTargets = true, AttemptTimeout = TimeSpan.FromSeconds(2) });
        using var dispatcher = new WebhookDispatcher(dbFactory, services.GetRequiredService<IDataProtectionProvider>(), new WebhookSignal(), options,
            TimeProvider.System, NullLogger<WebhookDispatcher>.Instance, new LoopbackOnlyConnector(),
            HandBuiltMetrics.For(dbFactory));
        int endpointId, customerId;
        await using (var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var customer = new Customer { Code = "CUST-0001", Name = "Slow Poke", Email = "s@example.com", CreatedAt = DateTimeOffset.UtcNow };
            db.Customers.Add(customer);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
            var endpoint = new WebhookEndpoint { CustomerId = customer.Id, Url = receiver.Url, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
            db.WebhookEndpoints.Add(endpoint);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
            (endpointId, customerId) = (endpoint.Id, customer.Id);
        }
        async Task AddDeliveriesAsync(string prefix, int count)
        {
            await using var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            for (var i = 0; i < count; i++)
                db.WebhookDeliveries.Add(new WebhookDelivery
                {
                    CustomerId = customerId, EndpointId = endpointId, EventId = $"evt_{prefix}_{i}", EventType = "message", Payload = "{}",
                    CreatedAt = DateTimeOffset.UtcNow, NextAttemptAt = DateTimeOffset.UtcNow,
                });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        // An unknown receiver gets only its share; once it answered quickly, its lane takes many at once.
        await AddDeliveriesAsync("first", 10);
        Assert.Equal(new WebhookOptions().MaxConcurrencyPerEndpoint, await dispatcher.RunDueAsync(TestContext.Current.CancellationToken));
        // The rest, until the receiver's last answers (on warm connections) have shown it quick.
        while (await dispatcher.RunDueAsync(TestContext.Current.CancellationToken) > 0)
        {
        }
        Assert.Equal(10, receiver.Received.Count);
        await AddDeliveriesAsync("slow", 40);
        receiver.Respond = _ => (200, TimeSpan.FromSeconds(10), null);
        Assert.Equal(40, await dispatcher.RunDueAsync(TestContext.Current.CancellationToken));

        await using (var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var rows = await db.WebhookDeliveries.AsNoTracking().Where(d => d.State == DeliveryState.Pending).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(40, rows.Count);
            var attempted = rows.Where(d => d.Attempts > 0).ToList();
            // A burst while the node was idle, then the first timeouts showed the receiver slow and the lane gave the rest back.
            Assert.InRange(attempted.Count, 4, 16);
            Assert.All(attempted, d => Assert.Equal("No answer within 2 s", d.LastError));
            Assert.All(rows.Where(d => d.Attempts == 0), d => Assert.True(d.NextAttemptAt <= DateTimeOffset.UtcNow, "given back to be due at once"));
        }
        Assert.InRange(receiver.Received.Count, 10 + 4, 10 + 16);
    }

    [Fact]
    public async Task Deliveries_pending_when_the_host_dies_are_delivered_by_the_next_host()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => (503, TimeSpan.Zero, null);
        var retryInTwoSeconds = FastWebhooks.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Webhooks:RetrySchedule:0"] = "00:00:02",
            ["WapBridge:Webhooks:RetrySchedule:1"] = "00:00:02",
            ["WapBridge:Webhooks:RetrySchedule:2"] = "00:00:02",
        });
        SendingCustomer sender;
        await using (var first = new WapBridgeApp(settings: retryInTwoSeconds, dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            sender = await first.CreateConnectedAsync();
            (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url })).EnsureOk();
            for (var i = 0; i < 5; i++)
                (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message",
                    new { instance_id = sender.InstanceId, from_number = "255755123456", message = $"backlog {i}" })).EnsureOk();
            // Each delivery failed once and waits for its retry when the host goes down.
            await receiver.WaitForAsync(r => r.Count >= 5);
        }

        receiver.Respond = _ => (200, TimeSpan.Zero, null);
        await using var second = new WapBridgeApp(settings: retryInTwoSeconds, dataDir: dataDir);
        await second.InitializeAsync();

        var arrived = await receiver.WaitForAsync(r => r.Count(h => h.Body.Contains("backlog")) >= 10, seconds: 15);
        var redelivered = arrived.Skip(5).ToList();
        for (var i = 0; i < 5; i++)
            Assert.Single(redelivered, b => b.Body.Contains($"backlog {i}"));
        Assert.Equal(arrived.Take(5).Select(h => h.Header("webhook-id")).Order(), redelivered.Select(h => h.Header("webhook-id")).Order());
        using var client = second.CreateApiClient(sender.Customer.TokenHeader);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await client.CallAsync("wap_bridge.api.settings.list_webhook_deliveries", new { state = "delivered" })).EnsureOk().Message!["total"]!.GetValue<int>() < 5)
        {
            Assert.True(DateTime.UtcNow < deadline, "deliveries were not all recorded as delivered");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A customer with a webhook endpoint at <paramref name="url"/> and one delivery due at <paramref name="due"/>.</summary>
    private static async Task<long> SeedDeliveryAsync(IDbContextFactory<WapBridgeDbContext> dbFactory, string url, string eventId, string eventType,
        DateTimeOffset now, DateTimeOffset due)
    {
        await using var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var customer = new Customer { Code = "CUST-0001", Name = "Receiver Ltd", Email = "r@example.com", CreatedAt = now };
        db.Customers.Add(customer);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        var endpoint = new WebhookEndpoint { CustomerId = customer.Id, Url = url, CreatedAt = now, UpdatedAt = now };
        db.WebhookEndpoints.Add(endpoint);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        var delivery = new WebhookDelivery
        {
            CustomerId = customer.Id, EndpointId = endpoint.Id, EventId = eventId, EventType = eventType, Payload = "{}", CreatedAt = now, NextAttemptAt = due,
        };
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return delivery.Id;
    }

    private static async Task<(ServiceProvider Services, IDbContextFactory<WapBridgeDbContext> DbFactory)> StoreAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        var services = new ServiceCollection()
            .AddLogging()
            .AddWapBridgeDatabase(new DatabaseOptions(), dir)
            .AddDataProtection().Services
            .BuildServiceProvider();
        var dbFactory = services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await DatabaseMigrator.MigrateAsync(dbFactory, NullLogger.Instance, TestContext.Current.CancellationToken);
        return (services, dbFactory);
    }

    [Fact]
    public async Task A_delivery_held_by_a_test_or_replay_call_is_left_to_that_call_until_the_hold_ends()
    {
        var (services, dbFactory) = await StoreAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 9, 0, 0, 123, TimeSpan.Zero));
        using var dispatcher = new WebhookDispatcher(dbFactory, services.GetRequiredService<IDataProtectionProvider>(), new WebhookSignal(),
            Options.Create(new WebhookOptions { AllowLoopbackTargets = true }), time, NullLogger<WebhookDispatcher>.Instance, new LoopbackOnlyConnector(),
            HandBuiltMetrics.For(dbFactory));
        var held = WebhookDispatcher.HoldForAttempt(time.GetUtcNow());
        var deliveryId = await SeedDeliveryAsync(dbFactory, receiver.Url, "evt_test", "test", time.GetUtcNow(), held);

        // The loop does not take it from the caller (the race made "send test" answer "not delivered" with no reason) ...
        Assert.Equal(0, await dispatcher.RunDueAsync(TestContext.Current.CancellationToken));
        Assert.Null(await dispatcher.AttemptAsync(deliveryId, TestContext.Current.CancellationToken));
        // ... the holder attempts it ...
        Assert.True((await dispatcher.AttemptAsync(deliveryId, TestContext.Current.CancellationToken, held))!.Delivered);
        Assert.Single(receiver.Received);

        // ... and one whose holder died is the loop's again once the hold ends.
        await using (var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken))
            await db.WebhookDeliveries.Where(d => d.Id == deliveryId)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.State, DeliveryState.Pending).SetProperty(d => d.NextAttemptAt, held), TestContext.Current.CancellationToken);
        time.Advance(held - time.GetUtcNow() + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RunDueAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, receiver.Received.Count);
    }
}
