using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>
/// Contract §6 <c>timezone</c> and §12 <c>health</c> over HTTP: what instance_status and list_instances answer, the
/// signals read from real traffic rows on each database, and create_instance refusing a zone that does not exist.
/// </summary>
public abstract class HealthApiTests(WapBridgeApp app)
{
    private const string P = "wap_bridge.api.instances.";

    private async Task<(HttpClient Client, string InstanceId)> NewInstanceAsync(object args)
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var created = (await client.CallAsync(P + "create_instance", args)).EnsureOk();
        return (client, created.Message!["instance_id"]!.GetValue<string>());
    }

    private static async Task<JsonNode> StatusAsync(HttpClient client, string id) =>
        (await client.CallAsync(P + "instance_status", new { instance_id = id })).EnsureOk().Message!;

    private async Task<Instance> InstanceAsync(string code)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.AsNoTracking().SingleAsync(i => i.Code == code);
    }

    private async Task InDbAsync(Func<WapBridgeDbContext, Task> change)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        await change(db);
        await db.SaveChangesAsync();
    }

    private static Message Outbound(Instance instance, string to, MessageStatus status, string? errorCode, DateTimeOffset at)
    {
        var id = Guid.NewGuid().ToString("N")[..20].ToUpperInvariant();
        return new Message
        {
            CustomerId = instance.CustomerId, InstanceId = instance.Id, Direction = Message.Outbound, WaMessageId = id, SerializedId = $"true_{to}@c.us_{id}",
            ToNumber = to, Chat = to, Type = "chat", Body = "Hello", Status = status, ErrorCode = errorCode, Source = MessageSources.Api, CreatedAt = at,
        };
    }

    private static Message Inbound(Instance instance, string from, DateTimeOffset at)
    {
        var id = Guid.NewGuid().ToString("N")[..20].ToUpperInvariant();
        return new Message
        {
            CustomerId = instance.CustomerId, InstanceId = instance.Id, Direction = Message.Inbound, WaMessageId = id, SerializedId = $"false_{from}@c.us_{id}",
            FromNumber = from, Chat = from, Type = "chat", Body = "Hi", Status = MessageStatus.Received, Source = MessageSources.Inbound, CreatedAt = at,
        };
    }

    [Fact]
    public async Task Status_and_list_answer_the_health_and_the_effective_timezone()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync(new { name = "Shop", engine = "simulator", default_country = "TZ", timezone = " Africa/Nairobi " });

        var status = await StatusAsync(client, id);
        Assert.Equal("Africa/Nairobi", status["timezone"]!.GetValue<string>());
        var health = status["health"]!;
        Assert.Equal((100, "good", 0), (health["score"]!.GetValue<int>(), health["level"]!.GetValue<string>(), health["reasons"]!.AsArray().Count));
        // A new instance is on day 1 of its warm-up.
        Assert.Equal(HealthOptions.DefaultWarmUp[0], health["budget_left_today"]!.GetValue<int>());
        Assert.False(health.AsObject().ContainsKey("restricted_until"));

        // Without a zone of its own: its country's, then its number's once paired.
        var (other, second) = await NewInstanceAsync(new { engine = "simulator", default_country = "TZ" });
        Assert.Equal("Africa/Dar_es_Salaam", (await StatusAsync(other, second))["timezone"]!.GetValue<string>());
        (await other.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = second, phone_number = "+254 722 " + Random.Shared.Next(100_000, 999_999) })).EnsureOk();
        Assert.Equal("Africa/Nairobi", (await StatusAsync(other, second))["timezone"]!.GetValue<string>());

        var listed = (await other.CallAsync(P + "list_instances")).EnsureOk().Message!["data"]!.AsArray().Single()!;
        Assert.Equal(second, listed["instance_id"]!.GetValue<string>());
        Assert.Equal("Africa/Nairobi", listed["timezone"]!.GetValue<string>());
        Assert.Equal("good", listed["health"]!["level"]!.GetValue<string>());
        Assert.Equal(HealthOptions.DefaultWarmUp[0], listed["health"]!["budget_left_today"]!.GetValue<int>());

        // Another customer's instance is the same 404 as every instance call, through the service too.
        var stranger = await app.CreateCustomerAsync();
        var strangerClient = app.CreateApiClient(stranger.TokenHeader);
        Assert.Equal(404, (await strangerClient.CallAsync(P + "instance_status", new { instance_id = id })).Status);
        int strangerId;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
            strangerId = await db.Customers.Where(c => c.Code == stranger.Code).Select(c => c.Id).SingleAsync();
        var error = await Assert.ThrowsAsync<WapBridgeException>(() => app.Services.GetRequiredService<HealthService>().GetAsync(strangerId, second));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task Pairing_another_number_restarts_the_warm_up_and_the_same_number_reconnecting_does_not()
    {
        app.SkipIfUnavailable();
        // Numbers of its own: the simulated network of a customer code may be shared with the other database's run.
        var first = "2557" + Random.Shared.Next(10_000_000, 99_999_999);
        var second = "2557" + Random.Shared.Next(10_000_000, 99_999_999);
        var (client, id) = await NewInstanceAsync(new { engine = "simulator", default_country = "TZ" });
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = first })).EnsureOk();
        var instance = await InstanceAsync(id);
        var longAgo = DateTimeOffset.UtcNow.AddDays(-30);
        await InDbAsync(db => db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.WarmUpStartedAt, longAgo)));

        async Task PairAsync(string phone)
        {
            (await client.CallAsync(P + "logout_instance", new { instance_id = id })).EnsureOk();
            (await client.CallAsync(P + "restart_instance", new { instance_id = id })).EnsureOk();
            await client.WaitForStatusAsync(id, "qr");
            // On a busy machine the reopened session may show its QR code a moment before the simulated phone can reach it.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            ApiAnswer scanned;
            while ((scanned = await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = id, phone_number = phone })).Status != 200
                && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            scanned.EnsureOk();
            await client.WaitForStatusAsync(id, "connected");
        }

        await PairAsync(first);
        Assert.Equal(longAgo.ToUnixTimeSeconds(), (await InstanceAsync(id)).WarmUpStartedAt!.Value.ToUnixTimeSeconds());
        Assert.Equal(new HealthOptions().WarmedUpDailyNewContacts, (await StatusAsync(client, id))["health"]!["budget_left_today"]!.GetValue<int>());

        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await PairAsync(second);
        Assert.InRange((await InstanceAsync(id)).WarmUpStartedAt!.Value, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(HealthOptions.DefaultWarmUp[0], (await StatusAsync(client, id))["health"]!["budget_left_today"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("EAT+3")]
    [InlineData("../../../etc/passwd")]
    [InlineData("Africa/Dar_es_Salaam/../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../etc/localtime")]
    public async Task Create_instance_refuses_a_timezone_that_does_not_exist_and_creates_nothing(string zone)
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);

        var refused = await client.CallAsync(P + "create_instance", new { engine = "simulator", timezone = zone });
        Assert.Equal(417, refused.Status);
        Assert.Equal(("invalid_timezone", "timezone"), (refused.ErrorCode, refused.ErrorField));
        Assert.Contains("Africa/Dar_es_Salaam", refused.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(0, (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_restriction_in_force_makes_the_level_restricted_with_its_end()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync(new { engine = "simulator", default_country = "TZ" });
        var until = DateTimeOffset.UtcNow.AddHours(5);
        var instance = await InstanceAsync(id);
        await InDbAsync(db => db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.RestrictedUntil, until).SetProperty(i => i.RestrictionDetail, "463")));

        var health = (await StatusAsync(client, id))["health"]!;
        Assert.Equal("restricted", health["level"]!.GetValue<string>());
        Assert.Equal(until.ToUnixTimeSeconds(), health["restricted_until"]!.GetValue<DateTimeOffset>().ToUnixTimeSeconds());
        var reason = health["reasons"]!.AsArray().Single()!;
        Assert.Equal("restricted", reason["code"]!.GetValue<string>());
        Assert.Contains("new contacts", reason["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Signals_are_read_from_the_traffic_of_the_window_on_this_database()
    {
        app.SkipIfUnavailable();
        var (client, id) = await NewInstanceAsync(new { engine = "simulator", default_country = "TZ" });
        var instance = await InstanceAsync(id);
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-10);
        await InDbAsync(db =>
        {
            // 40 answered sends to numbers in the window: 4 not on WhatsApp, 2 blocked, 5 refused otherwise; 3 expired locally (not
            // WhatsApp's doing) and 50 failures from before the window do not count.
            for (var n = 0; n < 40; n++)
            {
                var (status, code) = n switch
                {
                    < 4 => (MessageStatus.Failed, "not_on_whatsapp"),
                    < 6 => (MessageStatus.Failed, SendFailurePolicy.BlockedByRecipient),
                    < 11 => (MessageStatus.Failed, "479"),
                    _ => (MessageStatus.Delivered, (string?)null),
                };
                db.Messages.Add(Outbound(instance, $"2557550{n:D5}", status, code, now.AddHours(-30)));
            }
            for (var n = 0; n < 3; n++)
                db.Messages.Add(Outbound(instance, $"2557551{n:D5}", MessageStatus.Failed, "expired", now.AddHours(-30)));
            // A group is a send but nobody to count as a contact messaged.
            db.Messages.Add(Outbound(instance, "120363041234567890@g.us", MessageStatus.Sent, null, now.AddHours(-30)));
            for (var n = 0; n < 50; n++)
                db.Messages.Add(Outbound(instance, $"2557552{n:D5}", MessageStatus.Failed, "479", old));

            // 20 first messages a day ago: 3 answered after (one through its LID), one answered before we wrote (not a reply).
            for (var n = 0; n < 20; n++)
                db.KnownContacts.Add(new KnownContact { InstanceId = instance.Id, Number = $"2557553{n:D5}", Source = KnownContactSources.Messaged, FirstSeenAt = now.AddDays(-1) });
            db.Messages.Add(Inbound(instance, "255755300000", now.AddHours(-20)));
            db.Messages.Add(Inbound(instance, "255755300001", now.AddHours(-20)));
            db.Messages.Add(Inbound(instance, "987654321012345", now.AddHours(-20)));
            db.LidMappings.Add(new Core.Contacts.LidMapping { InstanceId = instance.Id, Lid = "987654321012345", PhoneNumber = "255755300002", LearnedAt = now });
            db.Messages.Add(Inbound(instance, "255755300003", now.AddDays(-2)));
            // Too recent to judge: not counted either way.
            db.KnownContacts.Add(new KnownContact { InstanceId = instance.Id, Number = "255755399999", Source = KnownContactSources.Messaged, FirstSeenAt = now.AddHours(-1) });

            // Opt-outs of numbers this instance wrote to, one too old, one of a number it never wrote to.
            db.Suppressions.Add(new Suppression { CustomerId = instance.CustomerId, Number = "255755000020", Reason = "replied STOP", CreatedAt = now.AddHours(-2) });
            db.Suppressions.Add(new Suppression { CustomerId = instance.CustomerId, Number = "255755000021", Reason = "replied STOP", CreatedAt = old });
            db.Suppressions.Add(new Suppression { CustomerId = instance.CustomerId, Number = "255799999999", Reason = "replied STOP", CreatedAt = now });

            db.InstanceStateChanges.Add(new InstanceStateChange { InstanceId = instance.Id, State = InstanceState.Disconnected, Reason = CloseCodePolicy.Banned, At = now.AddDays(-3) });
            return Task.CompletedTask;
        });

        var signals = await app.Services.GetRequiredService<HealthSignalReader>().ReadAsync(instance.Id);
        Assert.Equal(new HealthSignals(TimeSpan.FromDays(7), RecentlyRestricted: true, Sends: 41, FailedSends: 5, NotOnWhatsApp: 4, Blocked: 2,
            FirstMessages: 20, Replied: 3, ContactsMessaged: 40, OptOuts: 1), signals);

        var health = (await StatusAsync(client, id))["health"]!;
        Assert.Equal("danger", health["level"]!.GetValue<string>());
        Assert.Equal(["recently_restricted", "blocked", "failed_sends", "not_on_whatsapp", "opt_outs", "low_reply_rate"],
            health["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()));
        Assert.Equal(0, health["score"]!.GetValue<int>());
    }
}

/// <summary>A gateway with the budget WapBridge ships (test hosts otherwise get <see cref="GenerousBudget"/>).</summary>
public abstract class ShippedBudgetApp(string provider) : WapBridgeApp(provider, GenerousBudget.Shipped());

public sealed class SqliteShippedBudgetApp() : ShippedBudgetApp("sqlite");

public sealed class PostgresShippedBudgetApp() : ShippedBudgetApp("postgres");

public sealed class SqliteHealthApiTests(SqliteShippedBudgetApp app) : HealthApiTests(app), IClassFixture<SqliteShippedBudgetApp>;

public sealed class PostgresHealthApiTests(PostgresShippedBudgetApp app) : HealthApiTests(app), IClassFixture<PostgresShippedBudgetApp>;
