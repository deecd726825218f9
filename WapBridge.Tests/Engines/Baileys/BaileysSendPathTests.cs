using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The send path of the Baileys engine against the fake bridge: number checks, WhatsApp's refusals (463 holds, transient
/// codes retried with the same id), close codes as instance states, and sent message content kept for resends.
/// </summary>
public sealed class BaileysSendPathTests
{
    private const string Customer = "255712345678";

    private static async Task<string> SendAsync(HttpClient client, string instanceId, string to, string text) =>
        (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instanceId, to_number = to, message = text }))
            .EnsureOk().Message!["id"]!.GetValue<string>();

    private static async Task<List<JsonElement>> SentAtBridgeAsync(WapBridgeApp app, string instanceId) =>
        (await app.Engine().RequestAsync(instanceId, "sent", new JsonObject())).GetProperty("sent").EnumerateArray().ToList();

    private static async Task<T> InDbAsync<T>(WapBridgeApp app, Func<WapBridgeDbContext, Task<T>> query)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>());
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("not within " + seconds + " s: " + what);
            await Task.Delay(50);
        }
    }

    /// <summary>These campaigns run without spacing to keep the tests short: on a real engine that takes an Admin's consent (contract §12).</summary>
    private static async Task AllowUnthrottledAsync(WapBridgeApp app, HttpClient client)
    {
        var customer = (await client.CallAsync("wap_bridge.api.accounts.get_account")).EnsureOk().Message!["customer"]!.GetValue<string>();
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        (await admin.CallAsync("wap_bridge.api.admin.update_customer", new { customer, allow_unthrottled_campaigns = true })).EnsureOk();
    }

    [Fact]
    public async Task A_number_is_checked_once_sent_to_the_jid_WhatsApp_answers_and_an_unregistered_one_fails_not_on_whatsapp()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "registered", numbers = new Dictionary<string, string> { [Customer] = "120542636048510@lid" } });

        var first = await SendAsync(client, id, Customer, "Habari");
        await client.WaitForMessageAsync(first, r => r["status"]!.GetValue<string>() is "sent" or "delivered");
        var second = await SendAsync(client, id, Customer, "Tena");
        await client.WaitForMessageAsync(second, r => r["status"]!.GetValue<string>() is "sent" or "delivered");

        var sent = await SentAtBridgeAsync(app, id);
        Assert.Equal(["120542636048510@lid", "120542636048510@lid"], sent.Select(s => s.GetProperty("to").GetString()));
        var checks = (await app.Engine().RequestAsync(id, "number_checks", new JsonObject())).GetProperty("phones").EnumerateArray().Select(p => p.GetString());
        Assert.Equal([Customer], checks); // cached: the second send did not ask WhatsApp again

        var nobody = await SendAsync(client, id, "255799999999", "Uko?");
        var failed = await client.WaitForMessageAsync(nobody, r => r["status"]!.GetValue<string>() == "failed");
        Assert.Equal("not_on_whatsapp", failed["error_code"]!.GetValue<string>());
        Assert.Equal(2, (await SentAtBridgeAsync(app, id)).Count); // nothing went to WhatsApp for it
        var cached = await InDbAsync(app, db => db.NumberChecks.AsNoTracking().OrderBy(c => c.Number).ToListAsync());
        Assert.Equal([(Customer, true, "120542636048510@lid"), ("255799999999", false, null)], cached.Select(c => (c.Number, c.OnWhatsApp, c.Jid)));
    }

    [Fact]
    public async Task Campaign_recipients_on_numbers_not_on_whatsapp_end_failed_with_that_reason()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "registered", numbers = new Dictionary<string, string> { [Customer] = Customer + "@s.whatsapp.net" } });

        await AllowUnthrottledAsync(app, client);
        var campaign = (await client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = id,
            message = "Habari {{name}}",
            recipients = new object[] { new { phone_number = Customer, name = "Asha" }, new { phone_number = "255799999999", name = "Nobody" } },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        JsonArray recipients = [];
        await EventuallyAsync(async () =>
        {
            recipients = (await client.CallAsync("wap_bridge.api.campaigns.campaign_recipients", new { campaign, limit = 10 })).EnsureOk().Message!["data"]!.AsArray();
            return recipients.All(r => r!["state"]!.GetValue<string>() is "sent" or "delivered" or "failed");
        }, "every recipient settled", 20);
        var failed = Assert.Single(recipients, r => r!["state"]!.GetValue<string>() == "failed")!;
        Assert.Equal("255799999999", failed["number"]!.GetValue<string>());
        Assert.StartsWith("not_on_whatsapp", failed["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_463_restricts_the_instance_holds_sends_to_new_contacts_and_lets_replies_out()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, id) = await app.PairedInstanceAsync();
        (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "instance.status" } })).EnsureOk();
        var until = DateTimeOffset.UtcNow.AddHours(5);
        var untilText = until.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        await app.ScriptAsync(id, new
        {
            @do = "fail_sends",
            error = new { statusCode = 463, message = "WhatsApp restricted this account from messaging new contacts (463)", restriction = new { active = true, until = untilText } },
        });

        var refused = await SendAsync(client, id, "255757400001", "New contact");
        await EventuallyAsync(async () => await InDbAsync(app, db => db.Messages.AnyAsync(m => m.HoldReason == SendFailurePolicy.AccountRestricted)), "the refused send is held");
        var held = await InDbAsync(app, db => db.Messages.AsNoTracking().SingleAsync(m => m.HoldReason != null));
        Assert.Equal(MessageStatus.Queued, held.Status);
        Assert.Equal(until.ToUnixTimeMilliseconds(), held.NextSendAt!.Value.ToUnixTimeMilliseconds());
        Assert.Equal("queued", (await client.WaitForMessageAsync(refused, _ => true))["status"]!.GetValue<string>());

        var status = await client.WaitForStatusAsync(id, s => s["restriction"] is JsonObject);
        Assert.Equal("connected", status["status"]!.GetValue<string>());
        Assert.Equal(until.ToUnixTimeMilliseconds(), status["restriction"]!["until"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        Assert.Contains("463", status["restriction"]!["detail"]!.GetValue<string>());
        var hooks = await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("account_restricted")));
        var hook = JsonNode.Parse(hooks.First(h => h.Body.Contains("account_restricted")).Body)!;
        Assert.Equal("instance.status", hook["event"]!.GetValue<string>());

        // Another new contact: held at once, nothing reaches WhatsApp (no retry into the restriction).
        var another = await SendAsync(client, id, "255757400002", "Another new contact");
        await EventuallyAsync(async () => await InDbAsync(app, db => db.Messages.CountAsync(m => m.HoldReason == SendFailurePolicy.AccountRestricted)) == 2, "the second send is held");
        // A contact who wrote first gets the reply.
        var text = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", "text.json")))!;
        await app.ScriptAsync(id, new { @do = "message", raw = text["raw"] });
        await EventuallyAsync(async () => await InDbAsync(app, db => db.Messages.AnyAsync(m => m.Direction == "inbound" && m.FromNumber == Customer)), "the inbound message is stored");
        var reply = await SendAsync(client, id, Customer, "Bei ni 2,500");
        await client.WaitForMessageAsync(reply, r => r["status"]!.GetValue<string>() is "sent" or "delivered");

        var atBridge = await SentAtBridgeAsync(app, id);
        Assert.Equal(["255757400001@s.whatsapp.net", Customer + "@s.whatsapp.net"], atBridge.Select(s => s.GetProperty("to").GetString()));
        Assert.Equal(463, atBridge[0].GetProperty("refused").GetInt32());
        Assert.Equal("queued", (await client.WaitForMessageAsync(another, _ => true))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_463_pauses_the_instances_running_campaigns_with_that_reason()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "fail_sends", error = new { statusCode = 463, message = "restricted" } });

        await AllowUnthrottledAsync(app, client);
        var campaign = (await client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = id,
            message = "Habari {{name}}",
            recipients = new object[] { new { phone_number = "255757400011", name = "A" }, new { phone_number = "255757400012", name = "B" } },
            throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();

        JsonNode status = new JsonObject();
        await EventuallyAsync(async () =>
        {
            status = (await client.CallAsync("wap_bridge.api.campaigns.campaign_status", new { campaign })).EnsureOk().Message!;
            return status["status"]!.GetValue<string>() == "paused";
        }, "the campaign pauses", 20);
        Assert.StartsWith("account_restricted", status["paused_reason"]!.GetValue<string>());
        // Only the refused send reached WhatsApp.
        Assert.Single(await SentAtBridgeAsync(app, id));
    }

    [Theory]
    [InlineData(428)]
    [InlineData(408)]
    [InlineData(503)]
    public async Task A_transient_send_failure_goes_back_to_the_outbox_and_is_sent_again_with_the_same_id(int code)
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "fail_sends", error = new { statusCode = code, message = "Connection Closed" } });

        var message = await SendAsync(client, id, Customer, "Habari");
        var record = await client.WaitForMessageAsync(message, r => r["status"]!.GetValue<string>() is "sent" or "delivered", 20);
        Assert.True(record["error_code"] is null || record["error_code"]!.GetValueKind() == JsonValueKind.Null);

        var attempts = await SentAtBridgeAsync(app, id);
        Assert.Equal(2, attempts.Count);
        Assert.Equal(code, attempts[0].GetProperty("refused").GetInt32());
        Assert.False(attempts[1].TryGetProperty("refused", out _));
        Assert.Equal(attempts[0].GetProperty("messageId").GetString(), attempts[1].GetProperty("messageId").GetString());
    }

    [Fact]
    public async Task A_number_check_that_fails_leaves_the_message_queued_and_it_is_sent_after_asking_again()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "fail_checks", count = 1 });

        var message = await SendAsync(client, id, Customer, "Habari");
        await client.WaitForMessageAsync(message, r => r["status"]!.GetValue<string>() is "sent" or "delivered", 20);
        var checks = (await app.Engine().RequestAsync(id, "number_checks", new JsonObject())).GetProperty("phones").EnumerateArray().Select(p => p.GetString());
        Assert.Equal([Customer, Customer], checks);
        Assert.Single(await SentAtBridgeAsync(app, id));
    }

    [Fact]
    public async Task A_temporary_ban_disconnects_with_reason_banned_and_banned_until_and_does_not_reconnect()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        var before = DateTimeOffset.UtcNow;
        await app.ScriptAsync(id, new { @do = "close", statusCode = 402, name = "unknown", error = "Connection Failure", data = new { reason = "402", expire = "3600" } });

        var status = await client.WaitForStatusAsync(id, "disconnected");
        Assert.Equal("banned", status["last_error"]!.GetValue<string>());
        var bannedUntil = status["banned_until"]!.GetValue<DateTimeOffset>();
        Assert.InRange(bannedUntil, before.AddSeconds(3590), DateTimeOffset.UtcNow.AddSeconds(3610));

        // The first reconnect of a transient close comes after 1 s: none comes here.
        await Task.Delay(2500);
        Assert.Equal("disconnected", (await client.StatusAsync(id))["status"]!.GetValue<string>());
        var states = await InDbAsync(app, db => db.InstanceStateChanges.OrderBy(c => c.Id).Select(c => c.State).ToListAsync());
        Assert.Equal(InstanceState.Disconnected, states.Last());
        Assert.DoesNotContain(InstanceState.Connecting, states.SkipWhile(s => s != InstanceState.Disconnected));
        // The one attempt it makes is at the ban's end, and says so.
        var waiting = await client.StatusAsync(id);
        Assert.Equal(bannedUntil, waiting["next_retry_at"]!.GetValue<DateTimeOffset>());
        Assert.Equal(1, waiting["reconnect_attempts"]!.GetValue<int>());
        var retry = await client.CallAsync("wap_bridge.api.instances.reconnect_instance", new { instance_id = id });
        Assert.Equal(409, retry.Status);
        Assert.Equal("banned", retry.ErrorCode);
    }

    [Theory]
    [InlineData(403, "logged_out", "forbidden")]
    [InlineData(406, "logged_out", "pair again")]
    [InlineData(411, "disconnected", "multi-device mismatch")]
    public async Task Final_close_codes_end_in_their_state_with_the_reason_and_no_reconnect(int code, string state, string says)
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "close", statusCode = code, name = "unknown", error = "Connection Failure" });

        var status = await client.WaitForStatusAsync(id, state);
        Assert.Contains(says, status["last_error"]!.GetValue<string>());
        await Task.Delay(2500);
        Assert.Equal(state, (await client.StatusAsync(id))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sent_message_content_is_stored_encrypted_served_after_a_host_restart_and_purged_after_its_retention()
    {
        FakeBridge.SkipWithoutNode();
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        var proto = Convert.ToBase64String(Encoding.UTF8.GetBytes("proto: Habari, media key 0123456789"));
        string id;
        TestCustomer customer;
        await using (var first = FakeBridge.App(dataDir: dataDir, keepDataDir: true))
        {
            await first.InitializeAsync();
            customer = await first.CreateCustomerAsync();
            using var client = first.CreateApiClient(customer.TokenHeader);
            id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
            await client.WaitForStatusAsync(id, "qr");
            await first.ScriptAsync(id, new { @do = "pair", phone = "255757000009", name = "Resend" });
            await client.WaitForStatusAsync(id, "connected");
            await first.ScriptAsync(id, new { @do = "auth", op = "store_message", @params = new { id = "3EB0RESEND0000000001", remoteJid = Customer + "@s.whatsapp.net", content = proto } });

            var row = await InDbAsync(first, db => db.SentMessageContents.AsNoTracking().SingleAsync());
            Assert.Equal("3EB0RESEND0000000001", row.WaMessageId);
            Assert.DoesNotContain("media key", Encoding.UTF8.GetString(row.Content)); // sealed with Data Protection
        }

        await using var second = FakeBridge.App(dataDir: dataDir);
        await second.InitializeAsync();
        using var again = second.CreateApiClient(customer.TokenHeader);
        await again.WaitForStatusAsync(id, "connected", 30);
        var served = await second.ScriptAsync(id, new { @do = "auth", op = "get_message", @params = new { id = "3EB0RESEND0000000001", remoteJid = Customer + "@s.whatsapp.net" } });
        Assert.Equal(proto, served.GetProperty("results")[0].GetProperty("content").GetString());
        var unknown = await second.ScriptAsync(id, new { @do = "auth", op = "get_message", @params = new { id = "3EB0UNKNOWN000000000" } });
        Assert.Equal(JsonValueKind.Null, unknown.GetProperty("results")[0].GetProperty("content").ValueKind);

        // Past the retention (default 14 days) the content is deleted; younger content stays.
        await InDbAsync(second, async db =>
        {
            var instanceId = await db.Instances.Where(i => i.Code == id).Select(i => i.Id).SingleAsync();
            db.SentMessageContents.Add(new SentMessageContent
            {
                InstanceId = instanceId, WaMessageId = "3EB0OLD0000000000001", RemoteJid = Customer + "@s.whatsapp.net",
                Content = [1, 2, 3], CreatedAt = DateTimeOffset.UtcNow.AddDays(-15),
            });
            return await db.SaveChangesAsync();
        });
        Assert.Equal(1, await second.Services.GetRequiredService<SentMessageRetention>().PurgeAsync(CancellationToken.None));
        Assert.Equal(["3EB0RESEND0000000001"], await InDbAsync(second, db => db.SentMessageContents.Select(c => c.WaMessageId).ToListAsync()));
    }
}
