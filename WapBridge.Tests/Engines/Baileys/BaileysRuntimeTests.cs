using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>When the engine cannot run here, it says why and how to fix it; the rest of WapBridge is unaffected.</summary>
public sealed class BaileysRuntimeTests
{
    private static string? Reason(BaileysOptions options) =>
        new BaileysRuntime(Options.Create(options), null, NullLogger<BaileysRuntime>.Instance).UnavailableReason;

    [Fact]
    public void Disabled_says_which_setting()
    {
        Assert.Contains("WapBridge:Engines:Baileys:Enabled=false", Reason(new BaileysOptions { Enabled = false }));
    }

    [Fact]
    public void Missing_node_says_to_install_node_20()
    {
        var reason = Reason(new BaileysOptions { NodePath = "/nonexistent/node-" + Guid.NewGuid().ToString("N") });
        Assert.Contains("Node.js 20", reason);
        Assert.Contains("was not found", reason);
        Assert.Contains("NodePath", reason);
    }

    [Fact]
    public void Missing_packages_say_to_run_npm_ci()
    {
        FakeBridge.SkipWithoutNode();
        var dir = Directory.CreateTempSubdirectory("baileys-bridge-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "src"));
        File.WriteAllText(Path.Combine(dir, "package.json"), "{}");
        File.WriteAllText(Path.Combine(dir, "src", "main.js"), "");
        try
        {
            var reason = Reason(new BaileysOptions { BridgeDirectory = dir });
            Assert.Contains("npm ci", reason);
            Assert.Contains(dir, reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_missing_bridge_folder_names_the_setting()
    {
        FakeBridge.SkipWithoutNode();
        Assert.Contains("BridgeDirectory", Reason(new BaileysOptions { BridgeDirectory = "/nonexistent/" + Guid.NewGuid().ToString("N") }));
    }

    [Fact]
    public void A_bridge_script_with_node_is_available()
    {
        FakeBridge.SkipWithoutNode();
        Assert.Null(Reason(new BaileysOptions { BridgeScript = FakeBridge.ScriptPath }));
    }

    [Fact]
    public void Wa_version_and_browser_are_parsed_for_the_bridge()
    {
        Assert.Equal([2, 3000, 1023223821], new BaileysOptions { WaVersion = "2.3000.1023223821" }.ParsedWaVersion()!);
        Assert.Null(new BaileysOptions { WaVersion = "latest" }.ParsedWaVersion());
        Assert.Null(new BaileysOptions().ParsedWaVersion());
        Assert.Equal(["Ubuntu", "Chrome", "22.04.4"], new BaileysOptions().ParsedBrowser()!);
        Assert.Equal(["Windows", "Edge", "10.0.22631"], new BaileysOptions { Browser = "Windows, Edge, 10.0.22631" }.ParsedBrowser()!);
    }

    [Fact]
    public void The_heap_limit_grows_with_the_sessions_per_process_unless_configured()
    {
        Assert.Equal(25, new BaileysOptions().SessionsPerProcess);
        Assert.Equal(256 + 16 * 25, new BaileysOptions().EffectiveNodeHeapLimitMb());
        Assert.Equal(256 + 16 * 100, new BaileysOptions { SessionsPerProcess = 100 }.EffectiveNodeHeapLimitMb());
        Assert.Equal(2048, new BaileysOptions { NodeHeapLimitMb = 2048 }.EffectiveNodeHeapLimitMb());
    }

    [Fact]
    public async Task An_unavailable_engine_is_refused_by_name_and_the_simulator_stays_the_default()
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Enabled"] = "true",
            ["WapBridge:Engines:Baileys:NodePath"] = "/nonexistent/node",
        });
        await app.InitializeAsync();
        var registry = (EngineRegistry)app.Services.GetService(typeof(EngineRegistry))!;
        Assert.Equal("simulator", registry.DefaultEngine);
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var refused = await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" });
        Assert.Equal("engine_unavailable", refused.ErrorCode);
        Assert.Contains("Node.js 20", refused.Body!["error"]!["message"]!.GetValue<string>());
        var created = (await client.CallAsync("wap_bridge.api.instances.create_instance")).EnsureOk().Message!;
        Assert.Equal("simulator", created["engine"]?.GetValue<string>() ?? (await client.StatusAsync(created["instance_id"]!.GetValue<string>()))["engine"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sessions_beyond_the_per_process_limit_get_another_bridge_process()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(new Dictionary<string, string?> { ["WapBridge:Engines:Baileys:SessionsPerProcess"] = "1" });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
            await client.WaitForStatusAsync(id, "qr");
        }
        var processes = app.Engine().Supervisor.Processes;
        Assert.Equal(2, processes.Count);
        Assert.All(processes, p => Assert.Equal(1, p.SessionCount));
    }
}
