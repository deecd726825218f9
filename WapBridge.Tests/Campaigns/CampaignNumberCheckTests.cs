using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Api;
using WapBridge.Tests.TestHost;
using WapBridge.Web.Components.Pages.Campaigns;

namespace WapBridge.Tests.Campaigns;

/// <summary>Settings of the "check numbers first" tests: the simulator's default rule says numbers ending 9999 are not on WhatsApp.</summary>
public static class NumberCheckSettings
{
    public static Dictionary<string, string?> With(IDictionary<string, string?>? overrides = null)
    {
        var settings = FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
            ["WapBridge:Hangfire:WorkerCount"] = "2",
            ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
            ["WapBridge:Engines:Simulator:NotOnWhatsAppPattern"] = @"^\d*9999$",
            ["WapBridge:Campaigns:NumberCheckBatchSize"] = "3",
            ["WapBridge:Campaigns:NumberCheckPause"] = "00:00:00.200",
        });
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }
}

/// <summary>A gateway whose <see cref="CampaignNumberCheck"/> logs a test can read: each look-up batch is logged.</summary>
public class NumberCheckApp(string provider, IDictionary<string, string?> settings, string? dataDir = null) : WapBridgeApp(provider, settings, dataDir: dataDir)
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs)
            .AddFilter<LogCapture>((category, _) => category == typeof(CampaignNumberCheck).FullName));
    }

    /// <summary>The look-up batches a campaign asked WhatsApp about, in order, by their size.</summary>
    public List<int> LookupBatches(string campaign) =>
        Logs.Entries.Where(e => e.Values.GetValueOrDefault("Campaign") == campaign && e.Message.Contains("asks WhatsApp", StringComparison.Ordinal))
            .Select(e => int.Parse(e.Values["Count"]!, CultureInfo.InvariantCulture)).ToList();
}

public sealed class SqliteNumberCheckApp() : NumberCheckApp("sqlite", NumberCheckSettings.With());

public sealed class PostgresNumberCheckApp() : NumberCheckApp("postgres", NumberCheckSettings.With());

/// <summary>
/// Issue #19, a campaign's "check numbers first": recipients not on WhatsApp end failed (<c>not_on_whatsapp</c>) before any
/// message exists for them, the others are sent, and without the flag nobody is asked.
/// </summary>
public abstract class CampaignNumberCheckTests(NumberCheckApp app)
{
    private const string P = "wap_bridge.api.campaigns.";
    private static readonly object NoSpacing = new { min_delay_seconds = 0, max_delay_seconds = 0 };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonNode> WaitForAsync(HttpClient client, string campaign, Func<JsonNode, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var status = (await client.CallAsync(P + "campaign_status", new { campaign })).EnsureOk().Message!;
            if (done(status)) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"campaign never got there: {status.ToJsonString()}");
            await Task.Delay(100, Ct);
        }
    }

    private static bool Completed(JsonNode status) => status["status"]!.GetValue<string>() == "completed";

    private static string[] Numbers(string prefix, params string[] endings) => [.. endings.Select(e => prefix + e)];

    private async Task<List<string>> CachedNumbersAsync(string instanceId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        return await db.NumberChecks.Where(c => db.Instances.Any(i => i.Id == c.InstanceId && i.Code == instanceId)).Select(c => c.Number).ToListAsync(Ct);
    }

    private async Task<List<string?>> MessageNumbersAsync(string campaign)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        var campaignId = await db.Campaigns.Where(c => c.Code == campaign).Select(c => c.Id).SingleAsync(Ct);
        return await db.Messages.Where(m => m.CampaignId == campaignId).Select(m => m.ToNumber).ToListAsync(Ct);
    }

    [Fact]
    public async Task Numbers_not_on_WhatsApp_fail_before_any_message_and_the_rest_are_sent()
    {
        var sender = await app.CreateConnectedAsync();
        var notOnWhatsApp = new[] { "255757669999", "255757619999" };
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hello", throttle = NoSpacing, check_numbers_first = true,
            recipients = new[] { "255757661001", notOnWhatsApp[0], "255757661002", "255757661003", notOnWhatsApp[1], "255757661004" },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var done = await WaitForAsync(sender.Client, campaign, Completed);
        Assert.True(done["check_numbers_first"]!.GetValue<bool>());
        Assert.Equal(6, done["total"]!.GetValue<int>());
        Assert.Equal(2, done["failed"]!.GetValue<int>());
        Assert.Equal(4, done["sent"]!.GetValue<int>());
        Assert.Equal(100, done["progress"]!.GetValue<double>());

        var failed = (await sender.Client.CallAsync(P + "campaign_recipients", new { campaign, state = "failed" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal(notOnWhatsApp.Order(), failed.Select(r => r!["number"]!.GetValue<string>()).Order());
        Assert.All(failed, r => Assert.StartsWith("not_on_whatsapp", r!["error"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.All(failed, r => Assert.Null(r!["message_id"]?.GetValue<string>()));
        // No message row was ever made for them: the outbox was never asked to send to a number WhatsApp does not know.
        var messaged = await MessageNumbersAsync(campaign);
        Assert.Equal(4, messaged.Count);
        Assert.Empty(messaged.Intersect(notOnWhatsApp));
        // All six were looked up, in batches of at most three, and the answers kept for the send path.
        Assert.Equal(6, (await CachedNumbersAsync(sender.InstanceId)).Count);
        var batches = app.LookupBatches(campaign);
        Assert.Equal(6, batches.Sum());
        Assert.All(batches, b => Assert.InRange(b, 1, 3));

        var listed = (await sender.Client.CallAsync(P + "list_campaigns", new { })).EnsureOk().Message!["data"]!.AsArray()
            .Single(c => c!["campaign"]!.GetValue<string>() == campaign)!;
        Assert.True(listed["check_numbers_first"]!.GetValue<bool>());

        // The dashboard's export carries the reason.
        var customerId = await CustomerIdAsync(sender.Customer.Code);
        var csv = await CampaignDetail.ExportCsvAsync(app.Services.GetRequiredService<CampaignService>(), customerId, campaign, null, Ct);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var number in notOnWhatsApp)
        {
            var line = Assert.Single(lines, l => l.StartsWith("+" + number, StringComparison.Ordinal));
            Assert.Contains(",failed,not_on_whatsapp", line, StringComparison.Ordinal);
        }
    }

    private async Task<int> CustomerIdAsync(string code)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        return await db.Customers.Where(c => c.Code == code).Select(c => c.Id).SingleAsync(Ct);
    }

    [Fact]
    public async Task Without_the_flag_nobody_is_asked_before_sending()
    {
        var sender = await app.CreateConnectedAsync();
        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hello", recipients = Numbers("25575767", "1001", "1002", "1003"), throttle = NoSpacing,
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var done = await WaitForAsync(sender.Client, campaign, Completed);
        Assert.False(done["check_numbers_first"]!.GetValue<bool>());
        Assert.Equal(3, done["sent"]!.GetValue<int>());
        Assert.Empty(app.LookupBatches(campaign));
        Assert.Empty(await CachedNumbersAsync(sender.InstanceId));
    }

    [Fact]
    public async Task Cached_answers_are_not_asked_again()
    {
        var sender = await app.CreateConnectedAsync();
        var first = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "One", recipients = Numbers("25575768", "1001", "9999"), throttle = NoSpacing, check_numbers_first = true,
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        await WaitForAsync(sender.Client, first, Completed);
        Assert.Equal(2, app.LookupBatches(first).Sum());

        var second = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Two", recipients = Numbers("25575768", "1001", "9999", "1002"), throttle = NoSpacing, check_numbers_first = true,
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var done = await WaitForAsync(sender.Client, second, Completed);

        Assert.Equal(1, done["failed"]!.GetValue<int>());
        Assert.Equal(2, done["sent"]!.GetValue<int>());
        // Only the number the cache did not know was asked about.
        Assert.Equal([1], app.LookupBatches(second));
    }
}

public sealed class SqliteCampaignNumberCheckTests(SqliteNumberCheckApp app) : CampaignNumberCheckTests(app), IClassFixture<SqliteNumberCheckApp>;

public sealed class PostgresCampaignNumberCheckTests(PostgresNumberCheckApp app) : CampaignNumberCheckTests(app), IClassFixture<PostgresNumberCheckApp>;

public sealed class SlowLookupsApp() : NumberCheckApp("sqlite", NumberCheckSettings.With(new Dictionary<string, string?>
{
    ["WapBridge:Campaigns:NumberCheckBatchSize"] = "2",
    ["WapBridge:Campaigns:NumberCheckPause"] = "00:10:00",
}));

/// <summary>Look-ups go in batches of <c>NumberCheckBatchSize</c>, the next one only <c>NumberCheckPause</c> after the last.</summary>
public sealed class CampaignNumberCheckPacingTests(SlowLookupsApp app) : IClassFixture<SlowLookupsApp>
{
    [Fact]
    public async Task The_next_batch_waits_for_the_pause_and_the_campaign_shows_when()
    {
        var ct = TestContext.Current.CancellationToken;
        var sender = await app.CreateConnectedAsync();
        var started = DateTimeOffset.UtcNow;
        var campaign = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hello", check_numbers_first = true,
            recipients = new[] { "255757691001", "255757691002", "255757691003", "255757691004", "255757691005" },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        JsonNode status;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            Assert.True(DateTime.UtcNow < deadline, "the first batch was never sent");
            await Task.Delay(100, ct);
            status = (await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!;
        } while (status["sent"]!.GetValue<int>() < 2 || status["next_send_at"]?.GetValue<DateTimeOffset>() is not { } at || at < started.AddMinutes(5));

        // The first two were asked about and sent; the other three wait for the next batch, ten minutes on.
        Assert.Equal(3, status["pending"]!.GetValue<int>());
        Assert.Equal("running", status["status"]!.GetValue<string>());
        Assert.Null(status["paused_reason"]?.GetValue<string>());
        await Task.Delay(1500, ct);
        Assert.Equal([2], app.LookupBatches(campaign));
        Assert.Equal(3, (await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!["pending"]!.GetValue<int>());
    }
}

public sealed class CampaignNumberCheckOptionsTests
{
    [Theory]
    [InlineData("WapBridge:Campaigns:NumberCheckBatchSize", "0", "WAPBRIDGE_Campaigns__NumberCheckBatchSize (WapBridge:Campaigns:NumberCheckBatchSize) is 0; it must be 1 to 500")]
    [InlineData("WapBridge:Campaigns:NumberCheckBatchSize", "501", "WAPBRIDGE_Campaigns__NumberCheckBatchSize (WapBridge:Campaigns:NumberCheckBatchSize) is 501; it must be 1 to 500")]
    [InlineData("WapBridge:Campaigns:NumberCheckPause", "-00:00:01", "WAPBRIDGE_Campaigns__NumberCheckPause (WapBridge:Campaigns:NumberCheckPause) is -00:00:01; it must be zero or more")]
    public async Task A_nonsensical_look_up_pace_stops_the_start_naming_it(string key, string value, string message)
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await app.InitializeAsync());

        Assert.Contains(message, string.Join("\n", AuthFailureLimitTests.Flatten(error).Select(e => e.Message)));
    }
}

public sealed class CampaignNumberCheckRestartTests
{
    [Fact]
    public async Task A_campaign_killed_mid_check_resumes_asking_only_about_numbers_never_answered()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        var notOnWhatsApp = new[] { "255757739999", "255757749999" };
        var recipients = new[] { "255757731001", notOnWhatsApp[0], "255757731002", "255757731003", notOnWhatsApp[1], "255757731004", "255757731005" };
        SendingCustomer sender;
        string campaign;
        List<int> firstAsked;
        await using (var first = new NumberCheckApp("sqlite", NumberCheckSettings.With(), dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            sender = await first.CreateConnectedAsync();
            campaign = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
            {
                instance_id = sender.InstanceId, message = "Hello", recipients, check_numbers_first = true,
                throttle = new { min_delay_seconds = 0.7, max_delay_seconds = 0.7 },
            })).EnsureOk().Message!["campaign"]!.GetValue<string>();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!["sent"]!.GetValue<int>() < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the campaign did not start");
                await Task.Delay(50, ct);
            }
            firstAsked = first.LookupBatches(campaign);
        }

        await using var second = new NumberCheckApp("sqlite", NumberCheckSettings.With(), dataDir);
        await second.InitializeAsync();
        using var client = second.CreateApiClient(sender.Customer.TokenHeader);
        JsonNode status;
        var until = DateTime.UtcNow.AddSeconds(40);
        do
        {
            Assert.True(DateTime.UtcNow < until, "the campaign did not finish after the restart");
            await Task.Delay(100, ct);
            status = (await client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!;
        } while (status["status"]!.GetValue<string>() != "completed");

        Assert.Equal((5, 2), (status["sent"]!.GetValue<int>(), status["failed"]!.GetValue<int>()));
        // Every number was asked about once in all: what the first run learned came from the cache after the restart.
        Assert.NotEmpty(firstAsked);
        Assert.Equal(recipients.Length, firstAsked.Sum() + second.LookupBatches(campaign).Sum());
        var outbound = (await client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = sender.InstanceId, direction = "outbound", limit = 100 }))
            .EnsureOk().Message!["data"]!.AsArray().Select(m => m!["to"]!.GetValue<string>()).ToList();
        Assert.Equal(5, outbound.Count);
        Assert.Equal(5, outbound.Distinct().Count());
        Assert.Empty(outbound.Intersect(notOnWhatsApp));
    }
}
