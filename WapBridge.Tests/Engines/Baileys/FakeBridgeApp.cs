using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The real gateway with the Baileys engine enabled and pointed at the fake bridge (fake-bridge.mjs).</summary>
public static class FakeBridge
{
    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "fake-bridge.mjs");

    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? overrides = null)
    {
        var settings = FastMessaging.Settings(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Enabled"] = "true",
            ["WapBridge:Engines:Baileys:BridgeScript"] = ScriptPath,
            ["WapBridge:Engines:Baileys:RestartDelay"] = "00:00:00.200",
            ["WapBridge:Engines:Baileys:StartupTimeout"] = "00:00:15",
            ["WapBridge:Engines:Baileys:RequestTimeout"] = "00:00:15",
            ["WapBridge:Engines:Baileys:WaVersion"] = "2.3000.1023223821",
            ["WapBridge:Webhooks:AllowLoopbackTargets"] = "true",
            ["WapBridge:Webhooks:AttemptTimeout"] = "00:00:02",
        });
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }

    public static WapBridgeApp App(IDictionary<string, string?>? overrides = null, string? dataDir = null, bool keepDataDir = false) =>
        new(settings: Settings(overrides), dataDir: dataDir) { KeepDataDir = keepDataDir };

    internal static BaileysEngine Engine(this WapBridgeApp app) => app.Services.GetServices<IWhatsAppEngine>().OfType<BaileysEngine>().Single();

    /// <summary>
    /// A new customer's Baileys instance, paired in the fake bridge and connected; with a receiver, the customer's
    /// webhook sends it <c>message</c> events.
    /// </summary>
    internal static async Task<(HttpClient Client, string InstanceId)> PairedInstanceAsync(this WapBridgeApp app, WebhookReceiver? receiver = null,
        string phone = "255757000001", string name = "Duka")
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        await client.WaitForStatusAsync(id, "qr");
        await app.ScriptAsync(id, new { @do = "pair", phone, name });
        await client.WaitForStatusAsync(id, "connected");
        if (receiver is not null)
            (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "message" } })).EnsureOk();
        return (client, id);
    }

    /// <summary>Runs steps in the fake bridge for the instance's session (see fake-bridge.mjs).</summary>
    public static async Task<JsonElement> ScriptAsync(this WapBridgeApp app, string instanceId, params object[] steps) =>
        await app.Engine().RequestAsync(instanceId, "script", new JsonObject { ["steps"] = JsonSerializer.SerializeToNode(steps) });

    public static async Task<JsonNode> StatusAsync(this HttpClient client, string instanceId) =>
        (await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = instanceId })).EnsureOk().Message!;

    /// <summary>Polls instance_status until <paramref name="done"/> holds.</summary>
    public static async Task<JsonNode> WaitForStatusAsync(this HttpClient client, string instanceId, Func<JsonNode, bool> done, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var status = await client.StatusAsync(instanceId);
            if (done(status)) return status;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"instance {instanceId} never reached the expected state; last: {status.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    public static Task<JsonNode> WaitForStatusAsync(this HttpClient client, string instanceId, string state, int seconds = 20) =>
        client.WaitForStatusAsync(instanceId, s => s["status"]!.GetValue<string>() == state, seconds);

    public static void SkipWithoutNode()
    {
        if (!NodeAvailable.Value)
            Assert.Skip("Node.js is not installed here; the Baileys host tests run the fake bridge with it.");
    }

    private static readonly Lazy<bool> NodeAvailable = new(() =>
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("node", "--version") { RedirectStandardOutput = true });
            p!.WaitForExit(10_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });
}
