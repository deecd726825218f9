using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The whole send path for real: WapBridge, the real bridge and the real Baileys against the fake WhatsApp server
/// (baileys-bridge/test-support/fake-wa-server.js, run by fake-wa-helper.mjs), all on loopback.
/// </summary>
public sealed class RealBridgeSendTests
{
    private const string Contact = "255712345678";

    internal static Dictionary<string, string?> Settings(string bridgeDir, FakeWhatsApp wa)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Enabled"] = "true",
            ["WapBridge:Engines:Baileys:BridgeDirectory"] = bridgeDir,
            ["WapBridge:Engines:Baileys:WebSocketUrl"] = wa.Url,
            // The bridge trusts the fake server's test root (and stays under the tests' network guard).
            ["WapBridge:Engines:Baileys:Environment:NODE_OPTIONS"] = $"{HermeticDefaults.NodeOptions()} --import={wa.Preload}".Trim(),
        };
        foreach (var (name, value) in wa.ChildEnv)
            settings["WapBridge:Engines:Baileys:Environment:" + name] = value;
        return settings;
    }

    internal static async Task<(HttpClient Client, string InstanceId)> LinkAsync(WapBridgeApp app, TestCustomer customer, FakeWhatsApp wa)
    {
        var client = app.CreateApiClient(customer.TokenHeader);
        var instance = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        await client.WaitForStatusAsync(instance, "qr", 60);
        var qr = (await client.CallAsync("wap_bridge.api.instances.get_qr", new { instance_id = instance })).EnsureOk().Message!["qr"]!.GetValue<string>();
        await wa.CommandAsync(new { @do = "scan", qr });
        await client.WaitForStatusAsync(instance, "connected", 60);
        return (client, instance);
    }

    [Fact]
    public async Task A_resend_asked_for_after_a_WapBridge_restart_is_served_from_the_database_and_decrypts()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact);
        var settings = Settings(bridgeDir, wa);
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));

        TestCustomer customer;
        string instance, waId;
        await using (var first = new WapBridgeApp(settings: FastMessaging.Settings(settings), dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            customer = await first.CreateCustomerAsync();
            var (client, linked) = await LinkAsync(first, customer, wa);
            using var _ = client;
            instance = linked;

            var sent = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instance, to_number = Contact, message = "please resend me" }))
                .EnsureOk().Message!["id"]!.GetValue<string>();
            await client.WaitForMessageAsync(sent, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", 30);
            await using var scope = first.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
            waId = await db.Messages.Where(m => m.SerializedId == sent).Select(m => m.WaMessageId).SingleAsync();
            Assert.Equal("please resend me", (await wa.CommandAsync(new { @do = "decrypted", id = waId }))["text"]!.GetValue<string>());
            Assert.True(await db.SentMessageContents.AnyAsync(c => c.WaMessageId == waId), "the sent message's content is in the database");
        }

        // A new WapBridge (and so a new bridge process): nothing of the first one's memory is left.
        await using var second = new WapBridgeApp(settings: FastMessaging.Settings(settings), dataDir: dataDir);
        await second.InitializeAsync();
        using var again = second.CreateApiClient(customer.TokenHeader);
        await again.WaitForStatusAsync(instance, "connected", 60);
        var since = (await wa.CommandAsync(new { @do = "count" }))["count"]!.GetValue<int>();
        await wa.CommandAsync(new { @do = "retry", from = Contact, id = waId });
        var resent = await wa.CommandAsync(new { @do = "decrypted", id = waId, since });
        Assert.Equal("please resend me", resent["text"]!.GetValue<string>());
        Assert.Null(resent["decryptError"]);
    }

    [Fact]
    public async Task An_unregistered_number_fails_not_on_whatsapp_and_a_463_holds_the_send_until_the_timelock_ends()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact);
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        var (client, instance) = await LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;

        var nobody = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instance, to_number = "255799999999", message = "Uko?" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var failed = await client.WaitForMessageAsync(nobody, r => r["status"]!.GetValue<string>() == "failed", 30);
        Assert.Equal("not_on_whatsapp", failed["error_code"]!.GetValue<string>());

        var until = DateTimeOffset.UtcNow.AddHours(3);
        await wa.CommandAsync(new { @do = "timelock", until = until.ToString("O") });
        await wa.CommandAsync(new { @do = "fail_sends", code = 463, to = Contact });
        var refused = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instance, to_number = Contact, message = "Karibu" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var status = await client.WaitForStatusAsync(instance, s => s["restriction"] is JsonObject, 30);
        Assert.Equal("connected", status["status"]!.GetValue<string>());
        Assert.Equal(until.ToUnixTimeSeconds(), status["restriction"]!["until"]!.GetValue<DateTimeOffset>().ToUnixTimeSeconds());
        var record = await client.WaitForMessageAsync(refused, _ => true);
        Assert.Equal("queued", record["status"]!.GetValue<string>());
        await using var scope = app.Services.CreateAsyncScope();
        var held = await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().Messages.AsNoTracking().SingleAsync(m => m.SerializedId == refused);
        Assert.Equal("account_restricted", held.HoldReason);
        Assert.Equal(until.ToUnixTimeSeconds(), held.NextSendAt!.Value.ToUnixTimeSeconds());
    }

    /// <summary>The fake WhatsApp server in its own Node process, driven one JSON line at a time.</summary>
    internal sealed class FakeWhatsApp : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly SemaphoreSlim _gate = new(1, 1);

        private FakeWhatsApp(Process process, JsonNode hello)
        {
            _process = process;
            Url = hello["url"]!.GetValue<string>();
            Preload = hello["preload"]!.GetValue<string>();
            Account = hello["account"]!.GetValue<string>();
            ChildEnv = hello["childEnv"]!.AsObject().ToDictionary(p => p.Key, p => (string?)p.Value!.GetValue<string>());
        }

        public string Url { get; }
        public string Preload { get; }

        /// <summary>The JID of the account the device links to (what a contact's phone addresses us by).</summary>
        public string Account { get; }
        public Dictionary<string, string?> ChildEnv { get; }

        public static Task<FakeWhatsApp> StartAsync(string bridgeDir, params string[] registered) => StartAsync(bridgeDir, media: false, registered);

        /// <param name="media">Also run the fake media host (contacts can send media).</param>
        public static async Task<FakeWhatsApp> StartAsync(string bridgeDir, bool media, params string[] registered)
        {
            var script = Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "fake-wa-helper.mjs");
            var info = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false, WorkingDirectory = bridgeDir };
            info.ArgumentList.Add(script);
            info.ArgumentList.Add(bridgeDir);
            info.ArgumentList.Add(string.Join(',', registered));
            if (media)
                info.ArgumentList.Add("media");
            var process = Process.Start(info)!;
            var hello = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
                ?? throw new InvalidOperationException("the fake WhatsApp server did not start");
            return new FakeWhatsApp(process, JsonNode.Parse(hello)!);
        }

        public async Task<JsonNode> CommandAsync(object command)
        {
            await _gate.WaitAsync();
            try
            {
                await _process.StandardInput.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(command));
                await _process.StandardInput.FlushAsync();
                var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(40))
                    ?? throw new InvalidOperationException("the fake WhatsApp server exited");
                var answer = JsonNode.Parse(line)!;
                Assert.True(answer["ok"]!.GetValue<bool>(), "fake WhatsApp: " + answer["error"]);
                return answer;
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
                _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
