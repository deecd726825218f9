using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>
/// A gateway whose new-contact budget is small (<paramref name="perDay"/> new contacts every local day, warm-up or not)
/// and whose budget and outbox read <see cref="Clock"/>, which a test moves past the instance's local midnight.
/// </summary>
public sealed class BudgetApp(string provider, int perDay, string timeToLive = "3.00:00:00")
    : WapBridgeApp(provider, FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Health:WarmUp:0"] = $"{perDay}",
        ["WapBridge:Health:WarmUp:1"] = $"{perDay}",
        ["WapBridge:Health:WarmUp:2"] = $"{perDay}",
        ["WapBridge:Health:WarmedUpDailyNewContacts"] = $"{perDay}",
        ["WapBridge:Messaging:QueuedTimeToLive"] = timeToLive,
        ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
        ["WapBridge:Hangfire:WorkerCount"] = "2",
    }))
{
    public ShiftedClock Clock { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // Only the budget and the outbox: the silo, leases and receipts keep the real time.
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<NewContactBudget>(sp, (TimeProvider)Clock));
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<MessageDispatcher>(sp, (TimeProvider)Clock));
        });
    }
}

/// <summary>
/// Contract §12 over HTTP: sends over the new-contact budget or during a restriction answer queued with the reason and
/// next_send_at, are stored held (never tried before then), go out when allowed, fail visibly after the time-to-live;
/// known contacts are never held or counted; ERPNext sends over budget are a success; campaigns wait with a reason.
/// </summary>
public abstract class NewContactBudgetApiTests
{
    private const string W = "wap_bridge.api.whatsapp.";
    private static readonly TimeZoneInfo DarEsSalaam = TimeZoneInfo.FindSystemTimeZoneById("Africa/Dar_es_Salaam");

    protected abstract string Provider { get; }

    private async Task<BudgetApp> StartAsync(int perDay, string timeToLive = "3.00:00:00")
    {
        var app = new BudgetApp(Provider, perDay, timeToLive);
        await app.InitializeAsync();
        app.SkipIfUnavailable();
        return app;
    }

    /// <summary>The next midnight in Dar es Salaam (UTC+3, no DST), where the simulator's +255 numbers live.</summary>
    private static DateTimeOffset NextMidnightInTanzania(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, DarEsSalaam);
        return new DateTimeOffset(local.Date.AddDays(1), DarEsSalaam.BaseUtcOffset);
    }

    private static async Task<JsonNode> SendAsync(SendingCustomer sender, string to, string text, int wait = 15) =>
        (await sender.Client.CallAsync(W + "send_api_message", new { instance_id = sender.InstanceId, to_number = to, message = text, wait })).EnsureOk().Message!;

    private static bool WentOut(JsonNode record) => record["status"]!.GetValue<string>() is "sent" or "delivered" or "read";

    private static async Task<int> InstanceIdAsync(WapBridgeApp app, string code)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync();
    }

    private static async Task<Message> RowAsync(WapBridgeApp app, string id)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Messages.AsNoTracking().SingleAsync(m => m.SerializedId == id);
    }

    [Fact]
    public async Task The_third_new_contact_waits_for_local_midnight_known_contacts_still_go_and_after_midnight_the_held_ones_go_out()
    {
        await using var app = await StartAsync(perDay: 2);
        var sender = await app.CreateConnectedAsync();
        var instanceId = await InstanceIdAsync(app, sender.InstanceId);
        var budget = app.Services.GetRequiredService<NewContactBudget>();

        Assert.True(WentOut(await SendAsync(sender, "255757100001", "first new contact")));
        Assert.True(WentOut(await SendAsync(sender, "255757100002", "second new contact")));

        // The third stranger: answered at once (no 15 s wait), queued with the reason and the local midnight it waits for.
        var midnight = NextMidnightInTanzania(app.Clock.GetUtcNow());
        var started = DateTime.UtcNow;
        var held = await SendAsync(sender, "255757100003", "third new contact");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "a held send must not wait for the send");
        Assert.True(held["ok"]!.GetValue<bool>());
        Assert.Equal("queued", held["status"]!.GetValue<string>());
        Assert.Equal(SendFailurePolicy.NewContactBudget, held["reason"]!.GetValue<string>());
        Assert.Equal(midnight, held["next_send_at"]!.GetValue<DateTimeOffset>());
        Assert.True(held["service"]!["ok"]!.GetValue<bool>());
        var heldId = held["id"]!.GetValue<string>();

        // ERPNext's gateway over budget: a success for ERPNext, the message waits the same way.
        var erpnext = (await sender.Client.CallAsync(W + "erpnext_notification_gateway", new { instance_id = sender.InstanceId, to_number = "+255757100004", message = "Invoice <b>ready</b>" }))
            .EnsureOk().Message!;
        Assert.True(erpnext["ok"]!.GetValue<bool>());
        Assert.True(erpnext["service"]!["ok"]!.GetValue<bool>());
        Assert.Equal("queued", erpnext["status"]!.GetValue<string>());
        Assert.Equal(SendFailurePolicy.NewContactBudget, erpnext["reason"]!.GetValue<string>());
        Assert.Equal(midnight, erpnext["next_send_at"]!.GetValue<DateTimeOffset>());
        var erpnextId = erpnext["service"]!["id"]!.GetValue<string>();

        // Known contacts are not held by the stranger waiting ahead of them, and do not count: one we messaged today,
        // and one who wrote first (recorded as the inbound recorder records it).
        Assert.True(WentOut(await SendAsync(sender, "255757100001", "again to the first")));
        (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255757100009", message = "Hello?" })).EnsureOk();
        await budget.RememberAsync(instanceId, [new KnownContactAddress("255757100009", null)], KnownContactSources.WroteFirst);
        var reply = await SendAsync(sender, "255757100009", "a reply to who wrote first");
        Assert.True(WentOut(reply), reply.ToJsonString());
        Assert.Null(reply["reason"]);
        var today = await budget.StatusAsync(instanceId);
        Assert.Equal((2, 2, 0), (today.Allowance, today.UsedToday, today.LeftToday));

        // The log shows why they wait; the outbox never tried them (never "sending", no attempt).
        var record = (await sender.Client.CallAsync(W + "message_status", new { id = heldId })).EnsureOk().Message!;
        Assert.Equal(("queued", SendFailurePolicy.NewContactBudget, midnight),
            (record["status"]!.GetValue<string>(), record["hold_reason"]!.GetValue<string>(), record["next_send_at"]!.GetValue<DateTimeOffset>()));
        var listed = (await sender.Client.CallAsync(W + "list_messages", new { instance_id = sender.InstanceId, status = "queued" })).EnsureOk().Message!["data"]!.AsArray();
        Assert.Equal([erpnextId, heldId], listed.Select(m => m!["id"]!.GetValue<string>()));
        Assert.All(listed, m => Assert.Equal(SendFailurePolicy.NewContactBudget, m!["hold_reason"]!.GetValue<string>()));
        var sentRecord = (await sender.Client.CallAsync(W + "message_status", new { id = reply["id"]!.GetValue<string>() })).EnsureOk().Message!;
        Assert.False(sentRecord.AsObject().ContainsKey("hold_reason"));
        await Task.Delay(500);
        var row = await RowAsync(app, heldId);
        Assert.Equal((MessageStatus.Queued, 0, SendFailurePolicy.NewContactBudget, midnight), (row.Status, row.Attempts, row.HoldReason, row.NextSendAt));

        // Past the instance's local midnight the new day's budget sends both, counted on that day.
        app.Clock.AdvanceTo(midnight.AddSeconds(1));
        await sender.Client.WaitForMessageAsync(heldId, WentOut, 20);
        await sender.Client.WaitForMessageAsync(erpnextId, WentOut, 20);
        var sent = await RowAsync(app, heldId);
        Assert.Null(sent.HoldReason);
        Assert.Equal((2, 0), ((await budget.StatusAsync(instanceId)).UsedToday, (await budget.StatusAsync(instanceId)).LeftToday));
    }

    [Fact]
    public async Task A_restriction_holds_new_contacts_with_account_restricted_until_it_ends_while_known_contacts_get_messages()
    {
        await using var app = await StartAsync(perDay: 10);
        var sender = await app.CreateConnectedAsync();
        Assert.True(WentOut(await SendAsync(sender, "255757200001", "before the restriction")));

        var until = DateTimeOffset.UtcNow.AddHours(6);
        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(sender.InstanceId)
            .ReportRestrictionAsync(until, "WhatsApp refused a message to a new contact (463)");

        var held = await SendAsync(sender, "255757200002", "a stranger");
        Assert.Equal(("queued", SendFailurePolicy.AccountRestricted), (held["status"]!.GetValue<string>(), held["reason"]!.GetValue<string>()));
        Assert.Equal(until, held["next_send_at"]!.GetValue<DateTimeOffset>(), TimeSpan.FromMilliseconds(1));
        var location = (await sender.Client.CallAsync(W + "send_location", new { instance_id = sender.InstanceId, to_number = "255757200003", latitude = -6.8, longitude = 39.28 }))
            .EnsureOk().Message!;
        Assert.Equal(("queued", SendFailurePolicy.AccountRestricted), (location["status"]!.GetValue<string>(), location["reason"]!.GetValue<string>()));

        // Someone the number already talks with is no stranger to WhatsApp: that goes out.
        Assert.True(WentOut(await SendAsync(sender, "255757200001", "to a known contact")));
        var record = await sender.Client.WaitForMessageAsync(held["id"]!.GetValue<string>(), _ => true);
        Assert.Equal(("queued", SendFailurePolicy.AccountRestricted), (record["status"]!.GetValue<string>(), record["hold_reason"]!.GetValue<string>()));
        await Task.Delay(500);
        Assert.Equal(0, (await RowAsync(app, held["id"]!.GetValue<string>())).Attempts);
    }

    [Fact]
    public async Task A_send_held_by_the_budget_past_its_time_to_live_fails_visibly_with_new_contact_budget()
    {
        await using var app = await StartAsync(perDay: 1, timeToLive: "00:00:08");
        var sender = await app.CreateConnectedAsync();
        Assert.True(WentOut(await SendAsync(sender, "255757300001", "the day's one new contact")));
        var held = await SendAsync(sender, "255757300002", "one too many", wait: 0);
        Assert.Equal(SendFailurePolicy.NewContactBudget, held["reason"]!.GetValue<string>());

        var failed = await sender.Client.WaitForMessageAsync(held["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() == "failed", 30);
        Assert.Equal(SendFailurePolicy.NewContactBudget, failed["error_code"]!.GetValue<string>());
        Assert.Contains("new_contact_budget", failed["error"]!.GetValue<string>());
        Assert.False(failed.AsObject().ContainsKey("hold_reason"));
    }

    [Fact]
    public async Task Group_messages_and_reactions_open_no_conversation_with_a_stranger_and_go_out_with_the_budget_spent()
    {
        await using var app = await StartAsync(perDay: 1);
        var sender = await app.CreateConnectedAsync();
        Assert.True(WentOut(await SendAsync(sender, "255757600001", "the day's one new contact")));

        var group = (await sender.Client.CallAsync("wap_bridge.api.groups.create_group", new { instance_id = sender.InstanceId, subject = "Budget", participants = new[] { "255757600002" } }))
            .EnsureOk().Message!["group_id"]!.GetValue<string>();
        var toGroup = await SendAsync(sender, group, "to the group");
        Assert.True(WentOut(toGroup), toGroup.ToJsonString());

        var inbound = (await sender.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new { instance_id = sender.InstanceId, from_number = "255757600003", message = "Habari" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var reaction = (await sender.Client.CallAsync(W + "send_reaction", new { id = inbound, emoji = "👍" })).EnsureOk().Message!;
        Assert.True(WentOut(reaction), reaction.ToJsonString());

        var today = await app.Services.GetRequiredService<NewContactBudget>().StatusAsync(await InstanceIdAsync(app, sender.InstanceId));
        Assert.Equal((1, 0), (today.UsedToday, today.LeftToday));
        var stranger = await SendAsync(sender, "255757600004", "a second stranger");
        Assert.Equal(SendFailurePolicy.NewContactBudget, stranger["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_campaign_whose_message_the_outbox_holds_waits_with_the_reason_until_the_hold_ends()
    {
        await using var app = await StartAsync(perDay: 10);
        var sender = await app.CreateConnectedAsync();
        var until = DateTimeOffset.UtcNow.AddHours(5);
        // The owner overrode protection, so the restricted health pauses nothing (CampaignHealthGuard, tested on its
        // own): what shows is the runner's own wait for the message the outbox holds.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
            await db.Instances.Where(i => i.Code == sender.InstanceId).ExecuteUpdateAsync(u => u.SetProperty(i => i.ProtectionOverrideUntil, until));
        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(sender.InstanceId)
            .ReportRestrictionAsync(until, "WhatsApp refused a message to a new contact (463)");
        var campaign = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = sender.InstanceId,
            message = "Hello",
            recipients = new[] { "255757700001", "255757700002" },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode status;
        while (true)
        {
            status = (await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!;
            if (status["paused_reason"]?.GetValue<string>() is { } reason && reason.Contains(SendFailurePolicy.AccountRestricted))
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the campaign never said why it waits: {status.ToJsonString()}");
            await Task.Delay(100);
        }
        Assert.Equal("running", status["status"]!.GetValue<string>());
        Assert.Equal(until.ToUnixTimeMilliseconds(), status["next_send_at"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_campaign_waits_running_with_the_reason_and_next_send_at_once_the_budget_is_spent()
    {
        await using var app = await StartAsync(perDay: 2);
        var sender = await app.CreateConnectedAsync();
        var midnight = NextMidnightInTanzania(app.Clock.GetUtcNow());
        // The first recipient is known already (WhatsApp synced it): it goes out without counting.
        var instanceId = await InstanceIdAsync(app, sender.InstanceId);
        await app.Services.GetRequiredService<NewContactBudget>().RememberAsync(instanceId, [new KnownContactAddress("255757400000", null)], KnownContactSources.Synced);
        var campaign = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = sender.InstanceId,
            message = "Hello {{phone_number}}",
            recipients = new[] { "255757400000", "255757400001", "255757400002", "255757400003", "255757400004" },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode status;
        while (true)
        {
            status = (await sender.Client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!;
            if (status["paused_reason"]?.GetValue<string>() is { } reason && reason.Contains("new-contact budget"))
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the campaign never waited for the budget: {status.ToJsonString()}");
            await Task.Delay(100);
        }
        Assert.Equal("running", status["status"]!.GetValue<string>());
        Assert.Equal("new-contact budget for today used (2 of 2); resumes at " + TimeZoneInfo.ConvertTime(midnight, DarEsSalaam).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)
            + " (Africa/Dar_es_Salaam)", status["paused_reason"]!.GetValue<string>());
        Assert.Equal(midnight, status["next_send_at"]!.GetValue<DateTimeOffset>());
        Assert.Equal(2, status["pending"]!.GetValue<int>());

        // Three went out (the known one uncounted); no message to the other two exists yet, held or otherwise.
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var messages = await db.Messages.AsNoTracking().Where(m => m.InstanceId == instanceId && m.Source == MessageSources.Campaign)
            .Select(m => m.ToNumber).OrderBy(n => n).ToListAsync();
        Assert.Equal(["255757400000", "255757400001", "255757400002"], messages);
    }
}

public sealed class SqliteNewContactBudgetApiTests : NewContactBudgetApiTests
{
    protected override string Provider => "sqlite";
}

public sealed class PostgresNewContactBudgetApiTests : NewContactBudgetApiTests
{
    protected override string Provider => "postgres";
}
