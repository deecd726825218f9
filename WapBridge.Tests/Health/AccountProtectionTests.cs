using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Health;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Health;

/// <summary>A gateway whose protection logs (overrides, paused campaigns) a test can read.</summary>
public class ProtectionApp(string provider)
    : WapBridgeApp(provider, FastWebhooks.Settings(new Dictionary<string, string?> { ["WapBridge:Health:EvaluateInterval"] = "00:00:00.300" }))
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs)
            .AddFilter<LogCapture>((category, _) => category == typeof(ProtectionOverride).FullName || category == typeof(CampaignHealthGuard).FullName));
    }
}

public sealed class SqliteProtectionApp() : ProtectionApp("sqlite");

public sealed class PostgresProtectionApp() : ProtectionApp("postgres");

/// <summary>
/// Contract §12's automatic protection, through the API: a change of health level reaches the <c>instance.health</c>
/// webhook (opt-in) and pauses the instance's campaigns at danger, and the owner's logged override stops that.
/// Level changes are announced to every registered <see cref="IHealthLevelObserver"/>, as the health monitor does.
/// </summary>
public abstract class AccountProtectionTests(ProtectionApp app)
{
    private const string P = "wap_bridge.api.";

    private async Task<(int InstanceId, int CustomerId)> IdsAsync(SendingCustomer who)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var row = await db.Instances.AsNoTracking().Where(i => i.Code == who.InstanceId).Select(i => new { i.Id, i.CustomerId }).SingleAsync();
        return (row.Id, row.CustomerId);
    }

    private static InstanceHealth Health(string level, int score, params HealthReason[] reasons) =>
        new(score, level, reasons, new NewContactBudgetStatus(10, 4, DateTimeOffset.UtcNow.AddHours(5), 1), null, null);

    /// <summary>What the health monitor does on a change of level: tells every observer.</summary>
    private async Task LevelChangedAsync(SendingCustomer who, string? previous, InstanceHealth health)
    {
        var (instanceId, customerId) = await IdsAsync(who);
        foreach (var observer in app.Services.GetServices<IHealthLevelObserver>())
            await observer.LevelChangedAsync(new HealthLevelChange(instanceId, customerId, who.InstanceId, previous, health), CancellationToken.None);
    }

    private static readonly HealthReason FailedSends = new("failed_sends", "42% of recent sends failed; check the numbers you send to.");
    private static readonly HealthReason NoReplies = new("low_reply_rate", "Only 2% of new contacts answered; send to people who expect your messages.");

    private static async Task<string> CampaignAsync(SendingCustomer who, DateTimeOffset? scheduledAt = null) =>
        (await who.Client.CallAsync(P + "campaigns.create_and_start_campaign", new
        {
            instance_id = who.InstanceId,
            message = "Offer of the week",
            recipients = new[] { "255755400001", "255755400002", "255755400003" },
            throttle = new { min_delay_seconds = 3600, max_delay_seconds = 3600 },
            scheduled_at = scheduledAt,
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

    private static async Task<JsonNode> CampaignStatusAsync(SendingCustomer who, string campaign) =>
        (await who.Client.CallAsync(P + "campaigns.campaign_status", new { campaign })).EnsureOk().Message!;

    [Fact]
    public async Task A_level_change_reaches_the_instance_health_webhook_of_customers_who_opted_in()
    {
        app.SkipIfUnavailable();
        await using var receiver = await WebhookReceiver.StartAsync();
        var shop = await app.CreateConnectedAsync();
        (await shop.Client.CallAsync(P + "settings.set_webhook", new { url = receiver.Url, events = new[] { "message", "instance.health" } })).EnsureOk();
        var quiet = await app.CreateConnectedAsync();
        (await quiet.Client.CallAsync(P + "settings.set_webhook", new { url = receiver.Url + "/quiet", events = new[] { "message" } })).EnsureOk();

        await LevelChangedAsync(shop, HealthLevels.Watch, Health(HealthLevels.Danger, 35, FailedSends, NoReplies));
        await LevelChangedAsync(quiet, HealthLevels.Watch, Health(HealthLevels.Danger, 35, FailedSends));

        var hooks = await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("instance.health", StringComparison.Ordinal)));
        var hook = JsonNode.Parse(Assert.Single(hooks, h => h.Body.Contains("instance.health", StringComparison.Ordinal)).Body)!;
        Assert.Equal(WebhookEvents.InstanceHealth, hook["event"]!.GetValue<string>());
        Assert.Equal(shop.InstanceId, hook["instance_id"]!.GetValue<string>());
        Assert.Equal(shop.Customer.Code, hook["customer"]!.GetValue<string>());
        Assert.InRange(hook["timestamp"]!.GetValue<long>(), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var data = hook["data"]!;
        Assert.Equal(shop.InstanceId, data["instance_id"]!.GetValue<string>());
        Assert.Equal("danger", data["level"]!.GetValue<string>());
        Assert.Equal(35, data["score"]!.GetValue<int>());
        Assert.Equal(["failed_sends", "low_reply_rate"], data["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()));
        Assert.Equal(FailedSends.Message, data["reasons"]![0]!["message"]!.GetValue<string>());

        // The customer who did not opt in gets no delivery at all, not even a dead one.
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var (_, quietCustomer) = await IdsAsync(quiet);
        Assert.False(await db.WebhookDeliveries.AnyAsync(d => d.CustomerId == quietCustomer && d.EventType == WebhookEvents.InstanceHealth));
    }

    [Fact]
    public async Task The_first_judgement_of_an_instance_is_no_webhook_when_it_is_good()
    {
        app.SkipIfUnavailable();
        await using var receiver = await WebhookReceiver.StartAsync();
        var shop = await app.CreateConnectedAsync();
        (await shop.Client.CallAsync(P + "settings.set_webhook", new { url = receiver.Url, events = new[] { "instance.health" } })).EnsureOk();

        await LevelChangedAsync(shop, null, Health(HealthLevels.Good, 100));
        await LevelChangedAsync(shop, null, Health(HealthLevels.Watch, 75, NoReplies));

        var hooks = await receiver.WaitForAsync(r => r.Count >= 1);
        await Task.Delay(300);
        Assert.Equal(["watch"], receiver.Received.Select(h => JsonNode.Parse(h.Body)!["data"]!["level"]!.GetValue<string>()));
    }

    /// <summary>Every hook of the event, in the order received.</summary>
    private static List<JsonNode> HealthHooks(WebhookReceiver receiver) =>
        receiver.Received.Select(h => JsonNode.Parse(h.Body)!).Where(b => b["event"]!.GetValue<string>() == WebhookEvents.InstanceHealth).ToList();

    [Fact]
    public async Task Blocks_push_the_instance_to_danger_the_health_webhook_says_so_and_its_campaigns_pause_with_the_reason()
    {
        app.SkipIfUnavailable();
        await using var receiver = await WebhookReceiver.StartAsync();
        var shop = await app.CreateConnectedAsync();
        (await shop.Client.CallAsync(P + "settings.set_webhook", new { url = receiver.Url, events = new[] { "instance.health" } })).EnsureOk();
        var scheduled = await CampaignAsync(shop, DateTimeOffset.UtcNow.AddHours(2));
        (await shop.Client.CallAsync(P + "simulator.set_conditions", new { instance_id = shop.InstanceId, blocked_by = new[] { "255755600000" } })).EnsureOk();

        // 1 of 20 sends blocked: 5%, past the danger threshold of 3%.
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
            ids.Add((await shop.Client.CallAsync(P + "whatsapp.send_api_message",
                new { instance_id = shop.InstanceId, to_number = $"2557556000{i:D2}", message = "Karibu", wait = 0 })).EnsureOk().Message!["id"]!.GetValue<string>());
        foreach (var id in ids)
            await shop.Client.WaitForMessageAsync(id, m => m["status"]!.GetValue<string>() is not ("queued" or "sending"));

        await receiver.WaitForAsync(_ => HealthHooks(receiver).Any(h => h["data"]!["level"]!.GetValue<string>() == "danger"));
        var danger = HealthHooks(receiver).Single(h => h["data"]!["level"]!.GetValue<string>() == "danger")["data"]!;
        Assert.Equal(shop.InstanceId, danger["instance_id"]!.GetValue<string>());
        Assert.Contains("blocked", danger["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()));
        Assert.Equal("danger", (await FakeBridge.StatusAsync(shop.Client, shop.InstanceId))["health"]!["level"]!.GetValue<string>());
        var status = await CampaignStatusAsync(shop, scheduled);
        Assert.Equal("paused", status["status"]!.GetValue<string>());
        Assert.StartsWith($"account health is danger (score {danger["score"]!.GetValue<int>()}): ", status["paused_reason"]!.GetValue<string>());
        Assert.Contains("blocked this number", status["paused_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_simulated_restriction_makes_the_instance_restricted_at_once_and_the_health_webhook_says_until_when()
    {
        app.SkipIfUnavailable();
        await using var receiver = await WebhookReceiver.StartAsync();
        var shop = await app.CreateConnectedAsync();
        (await shop.Client.CallAsync(P + "settings.set_webhook", new { url = receiver.Url, events = new[] { "instance.health" } })).EnsureOk();
        var scheduled = await CampaignAsync(shop, DateTimeOffset.UtcNow.AddHours(2));
        (await shop.Client.CallAsync(P + "simulator.set_conditions",
            new { instance_id = shop.InstanceId, restricted_until = DateTimeOffset.UtcNow.AddHours(6) })).EnsureOk();

        (await shop.Client.CallAsync(P + "whatsapp.send_api_message", new { instance_id = shop.InstanceId, to_number = "255755700001", message = "Habari", wait = 0 })).EnsureOk();

        await receiver.WaitForAsync(_ => HealthHooks(receiver).Any(h => h["data"]!["level"]!.GetValue<string>() == "restricted"));
        var restricted = HealthHooks(receiver).Single(h => h["data"]!["level"]!.GetValue<string>() == "restricted")["data"]!;
        Assert.Contains("restricted", restricted["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()));
        var status = await CampaignStatusAsync(shop, scheduled);
        Assert.Equal("paused", status["status"]!.GetValue<string>());
        Assert.StartsWith("account health is restricted", status["paused_reason"]!.GetValue<string>());
        Assert.Contains("resume after", status["paused_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Set_webhook_accepts_instance_health_among_its_events()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();

        var set = (await shop.Client.CallAsync(P + "settings.set_webhook", new { url = "http://127.0.0.1:9/hook", events = new[] { "instance.health" } })).EnsureOk().Message!;

        Assert.Equal(["instance.health"], set["events"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public async Task At_danger_the_instances_running_and_scheduled_campaigns_pause_with_the_reason_and_resume_only_when_the_owner_says()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        var running = await CampaignAsync(shop);
        var scheduled = await CampaignAsync(shop, DateTimeOffset.UtcNow.AddHours(2));
        var other = await app.ConnectInstanceAsync(shop.Customer);
        var elsewhere = await CampaignAsync(other);
        Assert.Equal("scheduled", (await CampaignStatusAsync(shop, scheduled))["status"]!.GetValue<string>());

        // Watch is a warning, not a reason to stop.
        await LevelChangedAsync(shop, HealthLevels.Good, Health(HealthLevels.Watch, 70, NoReplies));
        Assert.Equal("running", (await CampaignStatusAsync(shop, running))["status"]!.GetValue<string>());

        await LevelChangedAsync(shop, HealthLevels.Watch, Health(HealthLevels.Danger, 35, FailedSends, NoReplies));

        foreach (var campaign in new[] { running, scheduled })
        {
            var status = await CampaignStatusAsync(shop, campaign);
            Assert.Equal("paused", status["status"]!.GetValue<string>());
            var reason = status["paused_reason"]!.GetValue<string>();
            Assert.StartsWith("account health is danger (score 35): 42% of recent sends failed", reason);
            Assert.Contains("Only 2% of new contacts answered", reason);
            Assert.Contains("resume", reason);
        }
        Assert.Equal("running", (await CampaignStatusAsync(other, elsewhere))["status"]!.GetValue<string>());
        var logged = Assert.Single(app.Logs.Entries, e => e.Values.GetValueOrDefault("Instance") == shop.InstanceId && e.Level == LogLevel.Warning
            && e.Message.StartsWith("Paused 2 campaigns", StringComparison.Ordinal));
        Assert.Contains(running, logged.Message);

        // The owner resumes; nothing resumes by itself.
        var resumed = (await shop.Client.CallAsync(P + "campaigns.resume_campaign", new { campaign = running })).EnsureOk().Message!;
        Assert.Equal("running", resumed["status"]!.GetValue<string>());
        Assert.Null(resumed["paused_reason"]?.GetValue<string>());
        Assert.Equal("paused", (await CampaignStatusAsync(shop, scheduled))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_restriction_pauses_campaigns_saying_when_it_ends()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        var campaign = await CampaignAsync(shop);
        var until = new DateTimeOffset(2030, 1, 2, 3, 4, 0, TimeSpan.Zero);

        await LevelChangedAsync(shop, HealthLevels.Watch, Health(HealthLevels.Restricted, 0,
            new HealthReason("restricted", "WhatsApp restricts this number from messaging new contacts.")) with { RestrictedUntil = until });

        var status = await CampaignStatusAsync(shop, campaign);
        Assert.Equal("paused", status["status"]!.GetValue<string>());
        Assert.Contains("resume after 2030-01-02 03:04 UTC", status["paused_reason"]!.GetValue<string>());
    }

    [Fact]
    public void A_long_list_of_reasons_is_shortened_so_the_resume_hint_still_fits_the_paused_reason()
    {
        var many = Enumerable.Range(1, 20).Select(i => new HealthReason("r" + i, $"Reason number {i} says something long about the number's health.")).ToArray();

        var reason = CampaignHealthGuard.Reason(Health(HealthLevels.Danger, 12, many));

        Assert.True(reason.Length <= 300, $"{reason.Length} characters: {reason}");
        Assert.StartsWith("account health is danger (score 12): Reason number 1 says", reason);
        Assert.EndsWith("; resume when the instance's health is back to good or watch", reason);
        Assert.Contains("…", reason);
    }

    [Fact]
    public async Task The_owners_override_is_answered_recorded_and_logged_and_campaigns_keep_running_at_danger_while_it_lasts()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        var campaign = await CampaignAsync(shop);
        var before = DateTimeOffset.UtcNow;

        var answer = (await shop.Client.CallAsync(P + "instances.override_protection", new { instance_id = shop.InstanceId.ToLowerInvariant() })).EnsureOk().Message!;

        Assert.Equal(shop.InstanceId, answer["instance_id"]!.GetValue<string>());
        var until = answer["override_until"]!.GetValue<DateTimeOffset>();
        Assert.InRange(until, before.AddHours(24).AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(24));
        var (instanceId, _) = await IdsAsync(shop);
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            Assert.Equal(until, await db.Instances.Where(i => i.Id == instanceId).Select(i => i.ProtectionOverrideUntil).SingleAsync());
            var history = await db.InstanceStateChanges.AsNoTracking().Where(c => c.InstanceId == instanceId).OrderBy(c => c.Id).Select(c => c.Reason).ToListAsync();
            Assert.Contains(history, r => r != null && r.StartsWith("protection overridden for 24 h", StringComparison.Ordinal) && r.Contains("by API key \"tests\"", StringComparison.Ordinal));
        }
        var log = Assert.Single(app.Logs.Entries, e => e.Values.GetValueOrDefault("Instance") == shop.InstanceId && e.Message.Contains("overridden", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Contains(shop.Customer.ApiKey, log.Values["Actor"]);
        Assert.DoesNotContain(shop.Customer.ApiSecret, app.Logs.AllText);
        Assert.Equal(until, (await app.Services.GetRequiredService<NewContactBudget>().StatusAsync(instanceId)).OverriddenUntil);

        await LevelChangedAsync(shop, HealthLevels.Watch, Health(HealthLevels.Danger, 30, FailedSends));

        Assert.Equal("running", (await CampaignStatusAsync(shop, campaign))["status"]!.GetValue<string>());

        // A shorter override replaces it.
        var shorter = (await shop.Client.CallAsync(P + "instances.override_protection", new { instance_id = shop.InstanceId, hours = 2 })).EnsureOk().Message!;
        Assert.InRange(shorter["override_until"]!.GetValue<DateTimeOffset>(), DateTimeOffset.UtcNow.AddHours(2).AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(2));
        Assert.Equal(0, shorter["override_until"]!.GetValue<DateTimeOffset>().Millisecond);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("73")]
    [InlineData("-5")]
    [InlineData("\"a day\"")]
    [InlineData("1.5")]
    public async Task An_override_longer_than_three_days_or_not_a_whole_number_of_hours_is_refused(string hours)
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();

        var answer = await shop.Client.SendRawAsync(HttpMethod.Post, "/api/method/" + P + "instances.override_protection",
            $$"""{"instance_id":"{{shop.InstanceId}}","hours":{{hours}}}""", "application/json");

        Assert.Equal(417, answer.Status);
        Assert.Equal("hours", answer.ErrorField);
        var (instanceId, _) = await IdsAsync(shop);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        Assert.Null(await db.Instances.Where(i => i.Id == instanceId).Select(i => i.ProtectionOverrideUntil).SingleAsync());
    }
}

public sealed class SqliteAccountProtectionTests(SqliteProtectionApp app) : AccountProtectionTests(app), IClassFixture<SqliteProtectionApp>;

public sealed class PostgresAccountProtectionTests(PostgresProtectionApp app) : AccountProtectionTests(app), IClassFixture<PostgresProtectionApp>;
