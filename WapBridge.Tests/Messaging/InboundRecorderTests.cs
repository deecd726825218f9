using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Messaging;

/// <summary>Group commit of inbound messages: each stored once with its webhook delivery, and only acknowledged once committed.</summary>
public sealed class InboundRecorderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Many_inbound_messages_at_once_are_all_recorded_and_delivered_exactly_once()
    {
        // Many at once from one API key: its rate limit (50/s, burst 100) is not what this test is about.
        await using var app = new WapBridgeApp(settings: FastWebhooks.Settings(new Dictionary<string, string?> { ["WapBridge:Api:RateLimit:Enabled"] = "false" }));
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url })).EnsureOk();

        const int count = 300;
        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i => sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message",
            new { instance_id = sender.InstanceId, from_number = "25575500" + i.ToString("0000"), message = $"burst {i}" })));
        var ids = answers.Select(a => a.EnsureOk().Message!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(count, ids.Distinct().Count());

        var hooks = await receiver.WaitForAsync(r => r.Count >= count, seconds: 60);
        var bodies = hooks.Select(h => JsonNode.Parse(h.Body)!["message"]!).ToList();
        Assert.Equal(ids.Order(), bodies.Select(b => b["id"]!.GetValue<string>()).Order());
        for (var i = 0; i < count; i++)
            Assert.Single(bodies, b => b["body"]!.GetValue<string>() == $"burst {i}");
        Assert.Equal(count, hooks.Select(h => h.Header("webhook-id")).Distinct().Count());

        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(Ct);
        var stored = await db.Messages.AsNoTracking().Where(m => m.Direction == Message.Inbound && m.Body!.StartsWith("burst ")).CountAsync(Ct);
        Assert.Equal(count, stored);
    }

    [Fact]
    public async Task The_simulator_injects_a_batch_in_one_call_and_refuses_a_bad_item_naming_it()
    {
        await using var app = new WapBridgeApp(settings: FastWebhooks.Settings());
        await app.InitializeAsync();
        var sender = await app.CreateConnectedAsync(defaultCountry: "TZ");
        await using var receiver = await WebhookReceiver.StartAsync();
        (await sender.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url })).EnsureOk();

        var bad = await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_messages", new
        {
            instance_id = sender.InstanceId,
            messages = new object[] { new { from_number = "255755300001", message = "fine" }, new { from_number = "255755300002" } },
        });
        Assert.Equal(417, bad.Status);
        Assert.Equal("messages[1].message", bad.Body!["error"]!["field"]!.GetValue<string>());

        var batch = (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_messages", new
        {
            instance_id = sender.InstanceId,
            messages = Enumerable.Range(0, 50).Select(i => new { from_number = "0755 30" + i.ToString("0000"), message = $"batch {i}", push_name = "Bulk" }).ToArray(),
        })).EnsureOk().Message!;
        var ids = batch["ids"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(50, ids.Distinct().Count());
        Assert.StartsWith("false_255755300007@c.us_", ids[7]);

        var hooks = await receiver.WaitForAsync(r => r.Count >= 50, seconds: 30);
        var bodies = hooks.Select(h => JsonNode.Parse(h.Body)!["message"]!).ToList();
        Assert.Equal(ids.Order(), bodies.Select(b => b["id"]!.GetValue<string>()).Order());
        Assert.Equal("batch 7", bodies.Single(b => b["id"]!.GetValue<string>() == ids[7])["body"]!.GetValue<string>());
        Assert.DoesNotContain(bodies, b => b["body"]!.GetValue<string>() == "fine");
    }

    [Fact]
    public async Task A_duplicate_inbound_within_one_batch_is_recorded_once()
    {
        await using var world = await World.CreateAsync();
        var recorder = world.NewRecorder(world.DbFactory);
        var message = world.Inbound("dup-1", "twice in one batch");

        // Queued before the writer runs, so both land in its first batch.
        var first = recorder.RecordAsync(world.Instance, message, null);
        var again = recorder.RecordAsync(world.Instance, message with { Body = "the engine resent it" }, null);
        var other = recorder.RecordAsync(world.Instance, world.Inbound("dup-2", "another"), null);
        await recorder.StartAsync(Ct);
        try
        {
            Assert.True(await first);
            Assert.False(await again);
            Assert.True(await other);
        }
        finally
        {
            await recorder.StopAsync(CancellationToken.None);
        }

        await using var db = await world.DbFactory.CreateDbContextAsync(Ct);
        var rows = await db.Messages.AsNoTracking().Where(m => m.InstanceId == world.Instance.Id).OrderBy(m => m.Id).ToListAsync(Ct);
        Assert.Equal(["twice in one batch", "another"], rows.Select(m => m.Body));
        Assert.Equal(2, await db.WebhookDeliveries.CountAsync(Ct));

        // And once more later, against what is already stored.
        var later = world.NewRecorder(world.DbFactory);
        await later.StartAsync(Ct);
        try
        {
            Assert.False(await later.RecordAsync(world.Instance, message, null));
        }
        finally
        {
            await later.StopAsync(CancellationToken.None);
        }
        Assert.Equal(2, await db.Messages.CountAsync(m => m.InstanceId == world.Instance.Id, Ct));
        Assert.Equal(2, await db.WebhookDeliveries.CountAsync(Ct));
    }

    [Fact]
    public async Task Messages_queued_when_the_host_stops_are_committed_before_it_stops()
    {
        await using var world = await World.CreateAsync();
        var recorder = world.NewRecorder(world.DbFactory);
        var queued = Enumerable.Range(0, 5).Select(i => recorder.RecordAsync(world.Instance, world.Inbound($"stop-{i}", $"queued {i}"), null)).ToList();
        await recorder.StartAsync(Ct);
        await recorder.StopAsync(CancellationToken.None);

        Assert.All(await Task.WhenAll(queued), Assert.True);
        // Refused at once (the event fails, the engine keeps the message), not queued for a writer that is gone.
        Assert.Throws<InvalidOperationException>(() => { _ = recorder.RecordAsync(world.Instance, world.Inbound("too-late", "after the stop"), null); });
        await using var db = await world.DbFactory.CreateDbContextAsync(Ct);
        Assert.Equal(5, await db.Messages.CountAsync(m => m.InstanceId == world.Instance.Id, Ct));
        Assert.Equal(5, await db.WebhookDeliveries.CountAsync(Ct));
    }

    [Fact]
    public async Task Host_killed_with_a_batch_pending_loses_nothing_it_acknowledged()
    {
        await using var world = await World.CreateAsync();
        var stuck = new StallingDbContextFactory(world.DbFactory);
        var dying = world.NewRecorder(stuck);
        await dying.StartAsync(Ct);

        var acknowledged = Enumerable.Range(0, 3).Select(i => world.Inbound($"ack-{i}", $"acknowledged {i}")).ToList();
        foreach (var committed in acknowledged.Select(m => dying.RecordAsync(world.Instance, m, null)).ToList())
            Assert.True(await committed);

        // The disk stalls; the next batch is in the writer's hands when the host is killed.
        stuck.Stall();
        var unacknowledged = Enumerable.Range(0, 3).Select(i => world.Inbound($"pending-{i}", $"pending {i}")).ToList();
        var pending = unacknowledged.Select(m => dying.RecordAsync(world.Instance, m, null)).ToList();
        await stuck.Stalled;
        Assert.All(pending, t => Assert.False(t.IsCompleted));

        await using (var db = await world.DbFactory.CreateDbContextAsync(Ct))
            Assert.Equal(acknowledged.Select(m => m.Body), await db.Messages.AsNoTracking().Where(m => m.InstanceId == world.Instance.Id)
                .OrderBy(m => m.Id).Select(m => m.Body).ToListAsync(Ct));

        // The killed host never answered those events, so the engine delivers them again to the next host — with
        // an acknowledged one it resends too. Each is stored once.
        var next = world.NewRecorder(world.DbFactory);
        await next.StartAsync(Ct);
        try
        {
            var redelivered = await Task.WhenAll(unacknowledged.Append(acknowledged[0]).Select(m => next.RecordAsync(world.Instance, m, null)));
            Assert.Equal(new[] { true, true, true, false }, redelivered);
        }
        finally
        {
            await next.StopAsync(CancellationToken.None);
        }
        stuck.Fail();
        await dying.StopAsync(CancellationToken.None);
        await using (var db = await world.DbFactory.CreateDbContextAsync(Ct))
        {
            var bodies = await db.Messages.AsNoTracking().Where(m => m.InstanceId == world.Instance.Id).Select(m => m.Body).ToListAsync(Ct);
            Assert.Equal(acknowledged.Concat(unacknowledged).Select(m => m.Body).Order(), bodies.Order());
            Assert.Equal(6, await db.WebhookDeliveries.CountAsync(Ct));
        }
    }

    /// <summary>A database with a customer, a connected instance and a webhook endpoint subscribed to <c>message</c>.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly string _dir;

        public IDbContextFactory<WapBridgeDbContext> DbFactory { get; }
        public Instance Instance { get; private set; } = null!;
        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));

        private World(string dir)
        {
            _dir = dir;
            _services = new ServiceCollection().AddLogging().AddWapBridgeDatabase(new DatabaseOptions(), dir).AddDataProtection().Services.BuildServiceProvider();
            DbFactory = _services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        }

        public static async Task<World> CreateAsync()
        {
            var world = new World(Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N")));
            await DatabaseMigrator.MigrateAsync(world.DbFactory, NullLogger.Instance, Ct);
            await using var db = await world.DbFactory.CreateDbContextAsync(Ct);
            var now = world.Time.GetUtcNow();
            var customer = new Customer { Code = "CUST-0001", Name = "Inbound", Email = "i@example.com", CreatedAt = now };
            db.Customers.Add(customer);
            await db.SaveChangesAsync(Ct);
            var instance = new Instance
            {
                Code = "INST-01-0000001", CustomerId = customer.Id, Name = "main", Engine = "simulator", NodeId = "01",
                State = InstanceState.Connected, PhoneNumber = "255700000001", CreatedAt = now, StateChangedAt = now,
            };
            db.Instances.Add(instance);
            db.WebhookEndpoints.Add(new WebhookEndpoint { CustomerId = customer.Id, Url = "http://127.0.0.1:9/hook", CreatedAt = now, UpdatedAt = now });
            await db.SaveChangesAsync(Ct);
            db.Entry(instance).State = EntityState.Detached;
            world.Instance = instance;
            return world;
        }

        public InboundRecorder NewRecorder(IDbContextFactory<WapBridgeDbContext> dbFactory)
        {
            var options = Options.Create(new WebhookOptions());
            var outbox = new WebhookOutbox(new WebhookSignal(), new MemoryCache(new MemoryCacheOptions()), DbFactory, Time);
            var links = new MediaLinks(_services.GetRequiredService<IDataProtectionProvider>(), new FixedPublicUrls(), options, Time);
            return new InboundRecorder(dbFactory, [new InboundMessageWebhooks(outbox, links, options)], HandBuiltMetrics.For(dbFactory), Time,
                NullLogger<InboundRecorder>.Instance);
        }

        public InboundEngineMessage Inbound(string id, string body) =>
            new(id, "255755123456", null, "Asha", null, "chat", body, null, null, Time.GetUtcNow());

        public async ValueTask DisposeAsync()
        {
            await _services.DisposeAsync();
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private sealed class FixedPublicUrls : IPublicUrls
    {
        public string BaseUrl => "http://127.0.0.1:5000";
    }

    /// <summary>Hands out contexts until <see cref="Stall"/>; then the next request waits forever (a hung disk), until <see cref="Fail"/>.</summary>
    private sealed class StallingDbContextFactory(IDbContextFactory<WapBridgeDbContext> inner) : IDbContextFactory<WapBridgeDbContext>
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _stalling;

        public Task Stalled => _stalled.Task;

        public void Stall() => _stalling = true;

        public void Fail() => _released.TrySetException(new IOException("the host is gone"));

        public WapBridgeDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<WapBridgeDbContext> CreateDbContextAsync(CancellationToken ct = default)
        {
            if (_stalling)
            {
                _stalled.TrySetResult();
                await _released.Task;
            }
            return await inner.CreateDbContextAsync(ct);
        }
    }
}
