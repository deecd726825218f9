using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Instances;

/// <summary>
/// Instance states a user can trust, through the API against the fake bridge: a server that cannot reach WhatsApp
/// (retrying quietly, "Retry now"), and WhatsApp's restriction ending by itself or lifted early by the owner.
/// </summary>
public sealed class InstanceHealthTests
{
    private const string P = "wap_bridge.api.instances.";

    // What Baileys reports when the name of WhatsApp's server does not resolve: its WebSocket error (statusCode 408,
    // from getCodeFromWSError) with Node's error in `data`, as the bridge's describeDisconnect passes it on.
    private static readonly object DnsFailure = new
    {
        statusCode = 408,
        name = "timedOut",
        error = "WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)",
        data = new { errno = -3008, code = "ENOTFOUND", syscall = "getaddrinfo", hostname = "web.whatsapp.com" },
    };

    private static readonly object DnsFailureClose = new
    {
        @do = "close",
        statusCode = 408,
        name = "timedOut",
        error = "WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)",
        data = new { errno = -3008, code = "ENOTFOUND", syscall = "getaddrinfo", hostname = "web.whatsapp.com" },
    };

    private static async Task<(HttpClient Client, string InstanceId, string ApiKey)> PairedInstanceAsync(WapBridgeApp app)
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var id = (await client.CallAsync(P + "create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        await client.WaitForStatusAsync(id, "qr");
        await app.ScriptAsync(id, new { @do = "pair", phone = "255757000001", name = "Duka" });
        await client.WaitForStatusAsync(id, "connected");
        return (client, id, customer.ApiKey);
    }

    private static async Task<T> InDbAsync<T>(WapBridgeApp app, Func<WapBridgeDbContext, Task<T>> query)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>());
    }

    private static List<JsonNode> StatusHooks(WebhookReceiver receiver) =>
        receiver.Received.Select(h => JsonNode.Parse(h.Body)!).Where(b => b["event"]!.GetValue<string>() == "instance.status").ToList();

    [Fact]
    public async Task Unreachable_WhatsApp_stays_disconnected_in_plain_words_with_one_webhook_and_retry_now_reconnects()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, id, _) = await PairedInstanceAsync(app);
        (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "instance.status" } })).EnsureOk();

        // The connection drops and the next two reconnects fail the same way: the network, not WhatsApp.
        await app.ScriptAsync(id, new { @do = "fail_opens", count = 2, reason = DnsFailure }, DnsFailureClose);
        var seen = new HashSet<string>();
        var retrying = await client.WaitForStatusAsync(id, s =>
        {
            seen.Add(s["status"]!.GetValue<string>());
            return s["reconnect_attempts"]!.GetValue<int>() == 3;
        });
        Assert.Equal("disconnected", retrying["status"]!.GetValue<string>());
        Assert.Equal(CloseCodePolicy.Unreachable, retrying["last_error"]!.GetValue<string>());
        var nextRetryAt = retrying["next_retry_at"]!.GetValue<DateTimeOffset>();
        Assert.InRange(nextRetryAt, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(6));
        Assert.DoesNotContain("connecting", seen);

        // No connecting↔disconnected flapping in the history either; Baileys' own words are kept there.
        var instanceId = await InDbAsync(app, db => db.Instances.Where(i => i.Code == id).Select(i => i.Id).SingleAsync());
        var history = await InDbAsync(app, db => db.InstanceStateChanges.AsNoTracking().Where(c => c.InstanceId == instanceId)
            .OrderBy(c => c.Id).Select(c => new { c.State, c.Reason }).ToListAsync());
        var sinceDrop = history.SkipWhile(c => c.State != InstanceState.Disconnected).ToList();
        Assert.Equal(3, sinceDrop.Count);
        Assert.All(sinceDrop, c =>
        {
            Assert.Equal(InstanceState.Disconnected, c.State);
            Assert.StartsWith(CloseCodePolicy.Unreachable, c.Reason);
            Assert.Contains("getaddrinfo ENOTFOUND web.whatsapp.com", c.Reason);
        });

        // Three failed connections, one real state change: one webhook, in plain words.
        await receiver.WaitForAsync(r => StatusHooks(receiver).Count >= 1);
        await Task.Delay(500);
        var hook = Assert.Single(StatusHooks(receiver));
        Assert.Equal("disconnected", hook["data"]!["status"]!.GetValue<string>());
        Assert.Equal(CloseCodePolicy.Unreachable, hook["data"]!["reason"]!.GetValue<string>());

        // Retry now: the third attempt starts at once instead of at next_retry_at, and connects.
        var retried = (await client.CallAsync(P + "reconnect_instance", new { instance_id = id })).EnsureOk();
        Assert.Equal(id, retried.Message!["instance_id"]!.GetValue<string>());
        var back = await client.WaitForStatusAsync(id, "connected", 3);
        Assert.True(DateTimeOffset.UtcNow < nextRetryAt, "connected before the scheduled attempt would have started");
        Assert.Equal(0, back["reconnect_attempts"]!.GetValue<int>());
        Assert.Null(back["next_retry_at"]?.GetValue<DateTimeOffset?>());
        Assert.Null(back["last_error"]?.GetValue<string>());
        var listed = (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["data"]!.AsArray().Single()!;
        Assert.Equal(0, listed["reconnect_attempts"]!.GetValue<int>());
        await receiver.WaitForAsync(r => StatusHooks(receiver).Count >= 2);
        Assert.Equal(2, StatusHooks(receiver).Count);

        // Connected, there is nothing to retry.
        var again = await client.CallAsync(P + "reconnect_instance", new { instance_id = id });
        Assert.Equal(417, again.Status);
        Assert.Equal("already_connected", again.ErrorCode);
        Assert.Equal("instance_id", again.ErrorField);
    }

    [Fact]
    public async Task A_retry_that_ends_in_a_final_state_stops_retrying_and_Retry_now_reopens_it()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id, _) = await PairedInstanceAsync(app);
        var conflict = new { statusCode = 440, name = "connectionReplaced", error = "Stream Errored (conflict)" };

        // The network drops; the first reconnect meets another WhatsApp Web client: a person must decide.
        await app.ScriptAsync(id, new { @do = "fail_opens", count = 1, reason = conflict }, DnsFailureClose);
        var final = await client.WaitForStatusAsync(id, s => s["last_error"]?.GetValue<string>()?.Contains("conflict") == true);
        Assert.Equal("disconnected", final["status"]!.GetValue<string>());
        Assert.Equal(0, final["reconnect_attempts"]!.GetValue<int>());
        Assert.Null(final["next_retry_at"]?.GetValue<DateTimeOffset?>());

        (await client.CallAsync(P + "reconnect_instance", new { instance_id = id })).EnsureOk();
        await client.WaitForStatusAsync(id, "connected", 10);
    }

    [Fact]
    public async Task The_attempt_count_and_next_retry_show_in_list_instances_while_retrying()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id, _) = await PairedInstanceAsync(app);
        var refused = new { statusCode = 408, name = "timedOut", error = "WebSocket Error (connect ECONNREFUSED 127.0.0.1:9)", data = new { code = "ECONNREFUSED" } };
        await app.ScriptAsync(id, new { @do = "fail_opens", count = 5, reason = refused }, new { @do = "close", refused.statusCode, refused.name, refused.error, refused.data });
        await client.WaitForStatusAsync(id, s => s["reconnect_attempts"]!.GetValue<int>() == 2);
        var listed = (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["data"]!.AsArray().Single()!;
        Assert.Equal("disconnected", listed["status"]!.GetValue<string>());
        Assert.Equal(2, listed["reconnect_attempts"]!.GetValue<int>());
        Assert.True(listed["next_retry_at"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddSeconds(-1));
        Assert.Equal(CloseCodePolicy.Unreachable, listed["last_error"]!.GetValue<string>());
    }

    private static async Task<string> RestrictAsync(WapBridgeApp app, HttpClient client, string id, DateTimeOffset until)
    {
        var untilText = until.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        await app.ScriptAsync(id, new
        {
            @do = "fail_sends",
            error = new { statusCode = 463, message = "WhatsApp restricted this account from messaging new contacts (463)", restriction = new { active = true, until = untilText } },
        });
        var held = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = id, to_number = "255757400001", message = "New contact" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        await client.WaitForStatusAsync(id, s => s["restriction"] is JsonObject);
        return held;
    }

    [Fact]
    public async Task A_restriction_disappears_from_instance_status_once_it_ended_and_its_held_send_goes_out()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id, _) = await PairedInstanceAsync(app);
        // Far enough ahead for the first send to be refused on a busy machine (it has taken 8 s).
        var until = DateTimeOffset.UtcNow.AddSeconds(20);
        var held = await RestrictAsync(app, client, id, until);
        Assert.Equal("queued", (await client.WaitForMessageAsync(held, _ => true))["status"]!.GetValue<string>());

        var after = await client.WaitForStatusAsync(id, s => s["restriction"] is null, 30);
        Assert.True(DateTimeOffset.UtcNow >= until.AddMilliseconds(-50), "the restriction vanished before it ended");
        Assert.Equal("connected", after["status"]!.GetValue<string>());
        var listed = (await client.CallAsync(P + "list_instances")).EnsureOk().Message!["data"]!.AsArray().Single()!;
        Assert.Null(listed["restriction"]);
        await client.WaitForMessageAsync(held, r => r["status"]!.GetValue<string>() is "sent" or "delivered", 30);
        var sentAt = await InDbAsync(app, db => db.Messages.Where(m => m.SerializedId == held).Select(m => m.SentAt).SingleAsync());
        Assert.True(sentAt >= until, $"the held send went out at {sentAt:O}, before the restriction ended at {until:O}");
    }

    [Fact]
    public async Task The_owner_resumes_sending_early_the_held_send_goes_out_and_it_is_in_the_history()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id, apiKey) = await PairedInstanceAsync(app);
        var held = await RestrictAsync(app, client, id, DateTimeOffset.UtcNow.AddHours(5));
        await Task.Delay(300);
        Assert.Equal(SendFailurePolicy.AccountRestricted, await InDbAsync(app, db => db.Messages.Where(m => m.SerializedId == held).Select(m => m.HoldReason).SingleAsync()));

        var resumed = (await client.CallAsync(P + "resume_sending", new { instance_id = id })).EnsureOk().Message!;
        Assert.Null(resumed["restriction"]);
        Assert.Equal("connected", resumed["status"]!.GetValue<string>());
        await client.WaitForMessageAsync(held, r => r["status"]!.GetValue<string>() is "sent" or "delivered", 15);
        Assert.Null((await client.StatusAsync(id))["restriction"]);

        var instanceId = await InDbAsync(app, db => db.Instances.Where(i => i.Code == id).Select(i => i.Id).SingleAsync());
        var reasons = await InDbAsync(app, db => db.InstanceStateChanges.Where(c => c.InstanceId == instanceId).Select(c => c.Reason).ToListAsync());
        var lifted = Assert.Single(reasons, r => r != null && r.StartsWith("restriction lifted early by API key", StringComparison.Ordinal));
        Assert.Contains(apiKey, lifted);

        // Nothing is restricted any more.
        var again = await client.CallAsync(P + "resume_sending", new { instance_id = id });
        Assert.Equal(417, again.Status);
        Assert.Equal("not_restricted", again.ErrorCode);
    }
}
