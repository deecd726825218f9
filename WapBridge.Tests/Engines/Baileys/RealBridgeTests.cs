using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The real <c>baileys-bridge</c> with the real Baileys package, aimed (as in every test host) at a closed loopback
/// port instead of WhatsApp: an opened session must end as a disconnected instance with a reason, not a crash or a
/// hang. Skips when Node.js or the bridge's packages are missing, unless <c>TEST_REQUIRE_BAILEYS=1</c>
/// (scripts/test.sh sets it on CI).
/// </summary>
public sealed class RealBridgeTests
{
    internal static string RequireBridge()
    {
        var directory = HermeticDefaults.BridgeDirectory();
        var missing = directory is null ? "the baileys-bridge folder (with src/main.js) was not found; set WAPBRIDGE_BRIDGE_DIR"
            : !Directory.Exists(Path.Combine(directory, "node_modules")) ? $"{directory}/node_modules is missing; run 'npm ci' there"
            : null;
        if (missing is null)
            FakeBridge.SkipWithoutNode();
        if (missing is not null)
        {
            if (Environment.GetEnvironmentVariable("TEST_REQUIRE_BAILEYS") == "1")
                Assert.Fail("TEST_REQUIRE_BAILEYS=1 but " + missing);
            Assert.Skip(missing);
        }
        return directory!;
    }

    private static async Task<(WapBridgeApp App, string LastError, TimeSpan Took)> OpenAndWaitForCloseAsync(IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Enabled"] = "true",
            ["WapBridge:Engines:Baileys:BridgeDirectory"] = RequireBridge(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        var app = new WapBridgeApp(settings: all);
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var clock = Stopwatch.StartNew();
        var created = await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" });
        Assert.True(created.Status == 200, created.Body?.ToJsonString());
        var id = created.Message!["instance_id"]!.GetValue<string>();
        var status = await client.WaitForStatusAsync(id, s => s["status"]!.GetValue<string>() == "disconnected" && s["last_error"] is not null, 60);
        var reason = status["last_error"]!.GetValue<string>();
        TestContext.Current.TestOutputHelper?.WriteLine($"close reason after {clock.Elapsed}: {reason}");
        return (app, reason, clock.Elapsed);
    }

    [Fact]
    public async Task At_the_test_hosts_closed_loopback_port_an_opened_session_fails_fast_and_ends_disconnected_with_a_reason()
    {
        var (app, reason, took) = await OpenAndWaitForCloseAsync();
        await using var _ = app;
        // Said in plain words: the server's network failed, not WhatsApp; the instance keeps retrying meanwhile.
        Assert.Equal(CloseCodePolicy.Unreachable, reason);
        // Baileys' own words stay in the state history: refused by the loopback port the test host configures, not a
        // lookup of WhatsApp's name.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var history = await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().InstanceStateChanges
                .Where(c => c.State == InstanceState.Disconnected).Select(c => c.Reason).ToListAsync();
            Assert.Contains(history, r => r != null && r.StartsWith(CloseCodePolicy.Unreachable, StringComparison.Ordinal) && r.Contains("ECONNREFUSED 127.0.0.1:9"));
            Assert.DoesNotContain(history, r => r != null && r.Contains("whatsapp.net"));
        }
        Assert.True(took < TimeSpan.FromSeconds(20), $"the close took {took}");
        Assert.DoesNotContain("could not open", reason); // the bridge opened the session; the connection is what failed
        var bridge = Assert.Single(app.Engine().Supervisor.Processes);
        Assert.True(bridge.IsAlive, "the bridge process must survive a connection failure");
    }

    [Fact]
    public async Task The_bridge_a_test_host_starts_runs_under_the_network_guard()
    {
        var (app, reason, _) = await OpenAndWaitForCloseAsync(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:WebSocketUrl"] = "ws://whatsapp.invalid/ws",
        });
        await using var _ = app;
        Assert.Contains("test network guard refused a connection to whatsapp.invalid:80", reason);
    }
    [Theory]
    [InlineData(null, "4", 256 + 16 * 4)]
    [InlineData("300", "4", 300)]
    public async Task The_bridge_runs_with_the_heap_limit_derived_from_its_sessions_or_the_configured_one(string? configured, string sessions, int expectedMb)
    {
        var settings = new Dictionary<string, string?> { ["WapBridge:Engines:Baileys:SessionsPerProcess"] = sessions };
        if (configured is not null)
            settings["WapBridge:Engines:Baileys:NodeHeapLimitMb"] = configured;
        var (app, _, _) = await OpenAndWaitForCloseAsync(settings);
        await using var _ = app;
        var ready = Assert.Single(app.Engine().Supervisor.Processes).ReadyInfo!.Value;
        // V8 adds its young generation (a few MB) to --max-old-space-size; without the flag it would be gigabytes.
        var limitMb = ready.GetProperty("heapSizeLimit").GetInt64() / (1024.0 * 1024);
        Assert.InRange(limitMb, expectedMb, expectedMb + 80);
    }
}
