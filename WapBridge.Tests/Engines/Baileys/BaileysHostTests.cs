using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The Baileys engine's host side against a fake bridge process speaking the protocol.</summary>
public sealed class BaileysHostTests
{
    private const string Customer = "255712345678";

    [Fact]
    public async Task Pairing_shows_the_bridges_qr_then_connects_as_the_phone()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();

        await client.WaitForStatusAsync(id, "qr");
        var qr = (await client.CallAsync("wap_bridge.api.instances.get_qr", new { instance_id = id })).EnsureOk().Message!;
        Assert.StartsWith("2@fake,", qr["qr"]!.GetValue<string>());
        var expires = qr["expires_at"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow;
        Assert.InRange(expires.TotalSeconds, 50, 61);

        var code = (await client.CallAsync("wap_bridge.api.instances.request_pairing_code", new { instance_id = id, phone_number = "+255 757 000 001" })).EnsureOk();
        Assert.Equal("FAKE1234", code.Message!["code"]!.GetValue<string>());

        await app.ScriptAsync(id, new { @do = "pair", phone = "255757000001", name = "Duka" });
        var status = await client.WaitForStatusAsync(id, "connected");
        Assert.Equal("255757000001", status["phone_number"]!.GetValue<string>());
        Assert.Equal("Duka", status["push_name"]!.GetValue<string>());
        Assert.Equal("baileys", status["engine"]!.GetValue<string>());

        // The configured WebSocket URL (the test host's closed loopback port), WhatsApp Web version and browser
        // reached the bridge's open request.
        var opened = (await app.Engine().RequestAsync(id, "opened", new JsonObject())).GetProperty("params");
        Assert.Equal(HermeticDefaults.BaileysWebSocketUrl, opened.GetProperty("webSocketUrl").GetString());
        Assert.Equal("[2,3000,1023223821]", opened.GetProperty("waVersion").GetRawText());
        // A sober default: the phone lists an ordinary desktop browser (Baileys' Browsers.ubuntu('Chrome')), not a gateway.
        Assert.Equal("""["Ubuntu","Chrome","22.04.4"]""", opened.GetProperty("browser").GetRawText());
    }

    [Fact]
    public async Task Every_event_kind_reaches_the_instance_the_messages_and_the_webhook()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, id) = await app.PairedInstanceAsync();
        (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "message", "message.ack" } })).EnsureOk();

        // Inbound: a text, an image with its downloaded bytes, and a message from a LID whose phone a lid_mapping revealed.
        var fixtures = Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures");
        var text = JsonNode.Parse(File.ReadAllText(Path.Combine(fixtures, "text.json")))!;
        var image = JsonNode.Parse(File.ReadAllText(Path.Combine(fixtures, "image-caption.json")))!;
        var lid = JsonNode.Parse(File.ReadAllText(Path.Combine(fixtures, "lid-without-phone.json")))!;
        await app.ScriptAsync(id,
            new { @do = "message", raw = text["raw"] },
            new { @do = "message", raw = image["raw"], media = image["media"] },
            new { @do = "lid_mapping", lid = "120542636048510@lid", pn = "255757197676@s.whatsapp.net" },
            new { @do = "message", raw = lid["raw"] });

        var hooks = await receiver.WaitForAsync(r => r.Count(h => h.Body.Contains("\"event\":\"message\"")) >= 3, 20);
        var messages = hooks.Select(h => JsonNode.Parse(h.Body)!).Where(b => b["event"]!.GetValue<string>() == "message").Select(b => b["message"]!).ToList();
        var chat = Assert.Single(messages, m => m["type"]!.GetValue<string>() == "chat" && m["body"]!.GetValue<string>() == "Habari, bei ya mchele?");
        Assert.Equal("255712345678@c.us", chat["from"]!.GetValue<string>());
        Assert.Equal("255757000001@c.us", chat["to"]!.GetValue<string>());
        var photo = Assert.Single(messages, m => m["type"]!.GetValue<string>() == "image");
        Assert.Equal("Sawa", photo["caption"]!.GetValue<string>());
        Assert.Equal(image["media"]!["base64"]!.GetValue<string>(), photo["media"]!["data"]!.GetValue<string>());
        var fromLid = Assert.Single(messages, m => m["body"]!.GetValue<string>() == "Nipigie");
        Assert.Equal("255757197676@c.us", fromLid["from"]!.GetValue<string>());
        Assert.Equal("120542636048510@lid", fromLid["fromLid"]!.GetValue<string>());

        // Outbound: the send reaches the bridge with our id and a WhatsApp JID; its receipts move the message to delivered, then read.
        var sent = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = id, to_number = Customer, message = "Bei ni 2,500" }))
            .EnsureOk().Message!;
        var messageId = sent["id"]!.GetValue<string>();
        var delivered = await client.WaitForMessageAsync(messageId, r => r["status"]!.GetValue<string>() == "delivered");
        Assert.Equal(2, delivered["ack"]!.GetValue<int>());
        var atBridge = await app.Engine().RequestAsync(id, "sent", new JsonObject());
        var send = atBridge.GetProperty("sent").EnumerateArray().Single();
        Assert.Equal(Customer + "@s.whatsapp.net", send.GetProperty("to").GetString());
        Assert.Equal("Bei ni 2,500", send.GetProperty("text").GetString());
        var waId = send.GetProperty("messageId").GetString()!;
        Assert.StartsWith("3EB0", waId);

        await app.ScriptAsync(id, new { @do = "receipt", id = waId, remoteJid = Customer + "@s.whatsapp.net", status = 4 });
        var read = await client.WaitForMessageAsync(messageId, r => r["status"]!.GetValue<string>() == "read");
        Assert.Equal(3, read["ack"]!.GetValue<int>());
        await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("\"event\":\"message.ack\"")), 20);

        // A transient close: disconnected for a moment, then the host reopens and the bridge connects again.
        await app.ScriptAsync(id, new { @do = "close", statusCode = 428, name = "connectionClosed", error = "Connection Closed" });
        var back = await client.WaitForStatusAsync(id, "connected");
        Assert.Equal("255757000001", back["phone_number"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_crashed_bridge_is_restarted_and_its_sessions_connect_again()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        var (other, otherId) = await app.PairedInstanceAsync(phone: "255757000002", name: "Kiosk");
        var before = Assert.Single(app.Engine().Supervisor.Processes);

        await app.ScriptAsync(id, new { @do = "exit", code = 3 });
        await client.WaitForStatusAsync(id, s => s["status"]!.GetValue<string>() != "connected", 10);
        await before.Exited.WaitAsync(TimeSpan.FromSeconds(10));

        var again = await client.WaitForStatusAsync(id, "connected", 30);
        Assert.Equal("255757000001", again["phone_number"]!.GetValue<string>());
        await other.WaitForStatusAsync(otherId, "connected", 30);
        var after = Assert.Single(app.Engine().Supervisor.Processes);
        Assert.NotEqual(before.ProcessId, after.ProcessId);
        Assert.True(after.IsAlive);

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
        var instanceId = await db.Instances.Where(i => i.Code == id).Select(i => i.Id).SingleAsync();
        var history = await db.InstanceStateChanges.Where(c => c.InstanceId == instanceId).OrderBy(c => c.Id).Select(c => c.State + ":" + c.Reason).ToListAsync();
        Assert.Contains(history, h => h.StartsWith("disconnected:") && h.Contains("bridge process stopped unexpectedly"));
        Assert.Equal("connected", history.Last().Split(':')[0]);
    }

    [Fact]
    public async Task Auth_state_is_stored_encrypted_and_a_new_host_resumes_without_a_scan()
    {
        FakeBridge.SkipWithoutNode();
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        string id;
        TestCustomer customer;
        await using (var first = FakeBridge.App(dataDir: dataDir, keepDataDir: true))
        {
            await first.InitializeAsync();
            customer = await first.CreateCustomerAsync();
            using var client = first.CreateApiClient(customer.TokenHeader);
            id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
            await client.WaitForStatusAsync(id, "qr");
            await first.ScriptAsync(id, new { @do = "pair", phone = "255757000009", name = "Resume" });
            await client.WaitForStatusAsync(id, "connected");

            await using var scope = first.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
            var entries = await db.EngineAuthEntries.AsNoTracking().ToListAsync();
            Assert.Contains(entries, e => e.Category == "creds" && e.KeyId == "creds");
            Assert.Contains(entries, e => e.Category == "pre-key" && e.KeyId == "1");
            Assert.DoesNotContain(entries, e => e.KeyId == "2"); // set to null: deleted
            Assert.All(entries, e => Assert.DoesNotContain("pk-", e.Value)); // sealed, not plain
            Assert.All(entries, e => Assert.DoesNotContain("registered", e.Value));
        }

        await using var second = FakeBridge.App(dataDir: dataDir);
        await second.InitializeAsync();
        using var again = second.CreateApiClient(customer.TokenHeader);
        // The fake connects only when creds say registered and the pre-key it stored comes back through get_keys.
        var status = await again.WaitForStatusAsync(id, "connected", 30);
        Assert.Equal("255757000009", status["phone_number"]!.GetValue<string>());
    }

    [Fact]
    public async Task Conflict_version_and_logged_out_closes_show_as_states_with_reasons()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();

        await app.ScriptAsync(id, new { @do = "close", statusCode = 440, name = "connectionReplaced", error = "Stream Errored (conflict)" });
        var conflict = await client.WaitForStatusAsync(id, "disconnected");
        Assert.Contains("another WhatsApp Web client took over this session (conflict)", conflict["last_error"]!.GetValue<string>());
        await Task.Delay(1500); // not transient: the host does not fight the other client
        Assert.Equal("disconnected", (await client.StatusAsync(id))["status"]!.GetValue<string>());

        (await client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = id })).EnsureOk();
        await client.WaitForStatusAsync(id, "connected");
        await app.ScriptAsync(id, new { @do = "close", statusCode = 405, error = "Connection Failure" });
        var outdated = await client.WaitForStatusAsync(id, "disconnected");
        Assert.Contains("WapBridge:Engines:Baileys:WaVersion", outdated["last_error"]!.GetValue<string>());

        (await client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = id })).EnsureOk();
        await client.WaitForStatusAsync(id, "connected");
        await app.ScriptAsync(id, new { @do = "close", statusCode = 401, name = "loggedOut", error = "Connection Failure" });
        var loggedOut = await client.WaitForStatusAsync(id, "logged_out");
        Assert.Equal("logged out from the phone", loggedOut["last_error"]!.GetValue<string>());

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
        await WaitUntilAsync(async () => !await db.EngineAuthEntries.AnyAsync(e => db.Instances.Any(i => i.Id == e.InstanceId && i.Code == id)));
        Assert.Null(await db.Instances.Where(i => i.Code == id).Select(i => i.EngineCredentials).SingleAsync());
    }

    [Fact]
    public async Task Logout_from_the_api_and_delete_forget_the_auth_state()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        var second = await app.PairedInstanceAsync(phone: "255757000003");
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
        Assert.True(await db.EngineAuthEntries.AnyAsync(e => db.Instances.Any(i => i.Id == e.InstanceId && i.Code == id)));

        var after = (await client.CallAsync("wap_bridge.api.instances.logout_instance", new { instance_id = id })).EnsureOk().Message!;
        Assert.Equal("logged_out", after["status"]!.GetValue<string>());
        Assert.False(await db.EngineAuthEntries.AnyAsync(e => db.Instances.Any(i => i.Id == e.InstanceId && i.Code == id)));

        // Another instance's state is untouched; deleting that instance removes its state with it.
        var secondId = await db.Instances.Where(i => i.Code == second.InstanceId).Select(i => i.Id).SingleAsync();
        Assert.True(await db.EngineAuthEntries.AnyAsync(e => e.InstanceId == secondId));
        (await second.Client.CallAsync("wap_bridge.api.instances.delete_instance", new { instance_id = second.InstanceId })).EnsureOk();
        Assert.False(await db.EngineAuthEntries.AnyAsync(e => e.InstanceId == secondId));
    }

    [Fact]
    public async Task A_bridge_that_never_says_ready_leaves_the_instance_disconnected_with_the_reason()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:StartupTimeout"] = "00:00:01",
            ["WapBridge:Engines:Baileys:Environment:FAKE_BRIDGE_NO_READY"] = "1",
        });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        var status = await client.WaitForStatusAsync(id, s => s["last_error"]?.GetValue<string>()?.Contains("did not report ready") == true, 20);
        Assert.Equal("disconnected", status["status"]!.GetValue<string>());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition never held");
            await Task.Delay(50);
        }
    }
}
