using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Overview;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Overview;

/// <summary>
/// The Overview's figures (<see cref="OverviewService"/>) on a real SQLite file and a fake clock: hour buckets, rates,
/// webhooks, instance tiles and campaigns, and never another customer's rows.
/// </summary>
public class OverviewServiceTests : IAsyncLifetime
{
    // 14:25 UTC: the window runs from 15:00 the day before to now, the current hour (14:00) last.
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 14, 25, 0, TimeSpan.Zero);

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "overview-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider time = new(Now);
    private ServiceProvider? services;
    private long messageSequence;

    /// <summary>The database; null for the SQLite file.</summary>
    protected virtual PostgresDatabase? Postgres => null;

    protected virtual bool Skipped => false;

    public virtual async ValueTask InitializeAsync()
    {
        if (Skipped)
            return;
        var database = Postgres is null ? new DatabaseOptions() : new DatabaseOptions { Provider = "postgres", ConnectionString = Postgres.ConnectionString };
        services = new ServiceCollection()
            .AddLogging()
            .AddWapBridgeDatabase(database, dataDir)
            .AddSingleton<TimeProvider>(time)
            .AddSingleton<OverviewService>()
            .BuildServiceProvider();
        await DatabaseMigrator.MigrateAsync(Factory, NullLogger.Instance, TestContext.Current.CancellationToken);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (services is not null)
            await services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }

    private IDbContextFactory<WapBridgeDbContext> Factory => services!.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();

    private OverviewService Overview
    {
        get
        {
            Assert.SkipWhen(services is null, "PostgreSQL is not configured (TEST_POSTGRES_CONNECTION)");
            return services!.GetRequiredService<OverviewService>();
        }
    }

    [Fact]
    public async Task Messages_fall_in_their_hour_by_status_and_the_rates_are_of_those_sent()
    {
        var ct = TestContext.Current.CancellationToken;
        _ = Overview;
        var (customer, instance) = await CustomerWithInstanceAsync("CUST-0001", "INST-01-0000001");
        // The current hour (14:00): one of each status, and two received.
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Queued, Now.AddMinutes(-1));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Sending, Now.AddMinutes(-2));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Sent, Now.AddMinutes(-3));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Delivered, Now.AddMinutes(-4));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Read, Now.AddMinutes(-5));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Played, Now.AddMinutes(-6));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Failed, Now.AddMinutes(-7));
        await MessageAsync(customer, instance, Message.Inbound, MessageStatus.Received, Now.AddMinutes(-8));
        await MessageAsync(customer, instance, Message.Inbound, MessageStatus.Received, Now.AddMinutes(-25)); // 14:00 sharp
        // 13:59:59 is the hour before; 15:00 yesterday the first hour; 14:59:59 yesterday is outside the window.
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Delivered, new DateTimeOffset(2026, 12, 5, 13, 59, 59, TimeSpan.Zero));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Sent, new DateTimeOffset(2026, 12, 4, 15, 0, 0, TimeSpan.Zero));
        await MessageAsync(customer, instance, Message.Outbound, MessageStatus.Read, new DateTimeOffset(2026, 12, 4, 14, 59, 59, TimeSpan.Zero));

        var figures = await Overview.ReadAsync(customer, ct);

        Assert.Equal(Now, figures.At);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 15, 0, 0, TimeSpan.Zero), figures.From);
        Assert.Equal(24, figures.Hours.Count);
        Assert.Equal(Enumerable.Range(0, 24).Select(h => figures.From.AddHours(h)), figures.Hours.Select(h => h.Hour));
        Assert.Equal(new HourFigures(new DateTimeOffset(2026, 12, 5, 14, 0, 0, TimeSpan.Zero), 2, 1, 1, 2, 1, 2), figures.Hours[23]);
        Assert.Equal(new HourFigures(new DateTimeOffset(2026, 12, 5, 13, 0, 0, TimeSpan.Zero), 0, 0, 1, 0, 0, 0), figures.Hours[22]);
        Assert.Equal(new HourFigures(figures.From, 0, 1, 0, 0, 0, 0), figures.Hours[0]);
        Assert.Equal(0, figures.Hours.Skip(1).Take(21).Sum(h => h.Outbound + h.Inbound));

        // Sent = reached WhatsApp: sent 2 + delivered 2 + read/played 2 = 6, of which 4 delivered and 2 read.
        Assert.Equal(new MessageRates(9, 6, 4, 2, 1), figures.Rates);
        Assert.Equal(4.0 / 6, figures.Rates.DeliveryRate);
        Assert.Equal(2.0 / 6, figures.Rates.ReadRate);

        // An hour later the window slides by one hour: yesterday's 15:00 message leaves it.
        time.Advance(TimeSpan.FromHours(1));
        var later = await Overview.ReadAsync(customer, ct);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 16, 0, 0, TimeSpan.Zero), later.From);
        Assert.Equal(figures.Hours[23], later.Hours[22]);
        Assert.Equal(0, later.Hours[23].Outbound);
        Assert.Equal(8, later.Rates.Outbound);
    }

    [Fact]
    public async Task Another_customers_messages_instances_deliveries_and_campaigns_never_show()
    {
        var ct = TestContext.Current.CancellationToken;
        _ = Overview;
        var (mine, _) = await CustomerWithInstanceAsync("CUST-0001", "INST-01-0000001");
        var (theirs, theirInstance) = await CustomerWithInstanceAsync("CUST-0002", "INST-01-0000002");
        await MessageAsync(theirs, theirInstance, Message.Outbound, MessageStatus.Queued, Now.AddMinutes(-1));
        await MessageAsync(theirs, theirInstance, Message.Inbound, MessageStatus.Received, Now.AddMinutes(-1));
        await DeliveryAsync(theirs, DeliveryState.Pending, 1, Now.AddMinutes(-3));
        await DeliveryAsync(theirs, DeliveryState.Dead, 8, Now.AddHours(-2));
        await CampaignAsync(theirs, theirInstance, "WAP-CAM-0009", CampaignState.Running);

        var figures = await Overview.ReadAsync(mine, ct);

        Assert.All(figures.Hours, h => Assert.Equal(0, h.Outbound + h.Inbound));
        Assert.Equal(new MessageRates(0, 0, 0, 0, 0), figures.Rates);
        Assert.Null(figures.Rates.DeliveryRate);
        Assert.Equal(new WebhookFigures(0, null, 0, 0), figures.Webhooks);
        Assert.Equal(["INST-01-0000001"], figures.Instances.Select(i => i.InstanceId));
        Assert.Equal(0, figures.Instances[0].Queue);
        Assert.Null(figures.Instances[0].LastActivity);
        Assert.Empty(figures.Campaigns);

        // The other customer sees their own.
        var other = await Overview.ReadAsync(theirs, ct);
        Assert.Equal(1, other.Hours[23].Pending);
        Assert.Equal(1, other.Hours[23].Inbound);
        Assert.Equal(new WebhookFigures(1, Now.AddMinutes(-3), 1, 1), other.Webhooks);
        Assert.Equal(["WAP-CAM-0009"], other.Campaigns.Select(c => c.Campaign));
    }

    [Fact]
    public async Task Tiles_show_each_instances_queue_and_newest_message_and_only_active_campaigns_are_listed()
    {
        var ct = TestContext.Current.CancellationToken;
        _ = Overview;
        var (customer, shop) = await CustomerWithInstanceAsync("CUST-0001", "INST-01-0000001");
        var desk = await InstanceAsync(customer, "INST-01-0000002", InstanceState.Qr);
        await using (var db = await Factory.CreateDbContextAsync(ct))
            await db.Instances.Where(i => i.Id == shop).ExecuteUpdateAsync(s => s
                .SetProperty(i => i.HealthLevel, "watch").SetProperty(i => i.HealthScore, 72).SetProperty(i => i.PhoneNumber, "255700111222"), ct);
        await MessageAsync(customer, shop, Message.Outbound, MessageStatus.Queued, Now.AddMinutes(-10));
        await MessageAsync(customer, shop, Message.Outbound, MessageStatus.Sending, Now.AddMinutes(-9));
        await MessageAsync(customer, shop, Message.Outbound, MessageStatus.Delivered, Now.AddMinutes(-8));
        await MessageAsync(customer, shop, Message.Inbound, MessageStatus.Received, Now.AddMinutes(-2));
        // Older than the window: still the desk's newest activity, and still in its queue.
        await MessageAsync(customer, desk, Message.Outbound, MessageStatus.Queued, Now.AddDays(-3));
        await DeliveryAsync(customer, DeliveryState.Pending, 0, Now.AddMinutes(-1));
        await DeliveryAsync(customer, DeliveryState.Pending, 2, Now.AddMinutes(-30));
        await DeliveryAsync(customer, DeliveryState.Delivered, 1, Now.AddMinutes(-30));
        await DeliveryAsync(customer, DeliveryState.Dead, 8, Now.AddHours(-3));
        await DeliveryAsync(customer, DeliveryState.Dead, 8, Now.AddDays(-2));
        foreach (var (code, state) in new[]
                 {
                     ("WAP-CAM-0001", CampaignState.Completed), ("WAP-CAM-0002", CampaignState.Running), ("WAP-CAM-0003", CampaignState.Paused),
                     ("WAP-CAM-0004", CampaignState.Scheduled), ("WAP-CAM-0005", CampaignState.Cancelled), ("WAP-CAM-0006", CampaignState.Creating),
                 })
            await CampaignAsync(customer, shop, code, state);

        var figures = await Overview.ReadAsync(customer, ct);

        Assert.Equal(2, figures.Instances.Count);
        Assert.Equal(new InstanceTile("INST-01-0000001", "Phone INST-01-0000001", "255700111222", InstanceState.Connected, 2, Now.AddMinutes(-2), "watch", 72),
            figures.Instances[0]);
        Assert.Equal(new InstanceTile("INST-01-0000002", "Phone INST-01-0000002", null, InstanceState.Qr, 1, Now.AddDays(-3), null, null), figures.Instances[1]);
        Assert.Equal(new WebhookFigures(2, Now.AddMinutes(-30), 1, 1), figures.Webhooks);
        Assert.Equal(["WAP-CAM-0004", "WAP-CAM-0003", "WAP-CAM-0002"], figures.Campaigns.Select(c => c.Campaign));
        var running = figures.Campaigns.Single(c => c.Campaign == "WAP-CAM-0002");
        Assert.Equal("INST-01-0000001", running.InstanceId);
        Assert.Equal(40, running.Progress);
    }

    private async Task<(int Customer, int Instance)> CustomerWithInstanceAsync(string code, string instanceCode)
    {
        await using var db = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var customer = new Customer { Code = code, Name = code, Email = $"{code.ToLowerInvariant()}@example.com", CreatedAt = Now.AddDays(-10) };
        db.Customers.Add(customer);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return (customer.Id, await InstanceAsync(customer.Id, instanceCode, InstanceState.Connected));
    }

    private async Task<int> InstanceAsync(int customerId, string code, InstanceState state)
    {
        await using var db = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var instance = new Instance
        {
            Code = code, CustomerId = customerId, Name = "Phone " + code, Engine = "simulator", NodeId = "01", State = state,
            CreatedAt = Now.AddDays(-10), StateChangedAt = Now.AddDays(-1),
        };
        db.Instances.Add(instance);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return instance.Id;
    }

    private async Task MessageAsync(int customerId, int instanceId, string direction, MessageStatus status, DateTimeOffset createdAt)
    {
        var id = "3EB0" + Interlocked.Increment(ref messageSequence).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
        await using var db = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        db.Messages.Add(new Message
        {
            CustomerId = customerId, InstanceId = instanceId, Direction = direction, WaMessageId = id, SerializedId = "true_255755000001@c.us_" + id,
            Type = "text", Body = "hello", Status = status, Source = direction == Message.Inbound ? MessageSources.Inbound : MessageSources.Api, CreatedAt = createdAt,
        });
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    private async Task DeliveryAsync(int customerId, DeliveryState state, int attempts, DateTimeOffset createdAt)
    {
        await using var db = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.CustomerId == customerId, TestContext.Current.CancellationToken);
        if (endpoint is null)
        {
            endpoint = new WebhookEndpoint { CustomerId = customerId, Url = "http://receiver.invalid/hook", Events = "message", SecretProtected = "x" };
            db.WebhookEndpoints.Add(endpoint);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        db.WebhookDeliveries.Add(new WebhookDelivery
        {
            CustomerId = customerId, EndpointId = endpoint.Id, EventId = "evt_" + Guid.NewGuid().ToString("N"), EventType = "message", Payload = "{}",
            State = state, Attempts = attempts, CreatedAt = createdAt, NextAttemptAt = createdAt,
        });
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    private async Task CampaignAsync(int customerId, int instanceId, string code, CampaignState state)
    {
        await using var db = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        db.Campaigns.Add(new Campaign
        {
            Code = code, CustomerId = customerId, InstanceId = instanceId, Name = "Campaign " + code, MessageText = "Hi", State = state,
            Total = 5, Pending = 3, Sent = 1, Delivered = 1, CreatedAt = Now.AddHours(-1),
        });
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }
}

/// <summary>The same figures on PostgreSQL (skipped without TEST_POSTGRES_CONNECTION).</summary>
public sealed class PostgresOverviewServiceTests : OverviewServiceTests
{
    private PostgresDatabase? database;

    protected override PostgresDatabase? Postgres => database;

    protected override bool Skipped => database is null;

    public override ValueTask InitializeAsync()
    {
        if (PostgresDatabase.ServerConnection() is { } server)
            database = PostgresDatabase.Create(server);
        return base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (database is not null)
            await database.DisposeAsync();
    }
}
