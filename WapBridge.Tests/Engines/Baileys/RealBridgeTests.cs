using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The real <c>baileys-bridge</c> with the real Baileys package. Without internet (CI, this sandbox) an opened session
/// must end as a disconnected instance with a reason, not a crash or a hang. Skips when Node.js or the bridge's
/// packages are missing, unless <c>TEST_REQUIRE_BAILEYS=1</c> (scripts/test.sh sets it on CI).
/// </summary>
public sealed class RealBridgeTests
{
    /// <summary>The bridge folder: <c>baileys-bridge/src/main.js</c> above the test assembly, else <c>WAPBRIDGE_BRIDGE_DIR</c>.</summary>
    public static string? BridgeDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "baileys-bridge");
            if (File.Exists(Path.Combine(candidate, "src", "main.js")))
                return candidate;
        }
        return Environment.GetEnvironmentVariable("WAPBRIDGE_BRIDGE_DIR") is { Length: > 0 } configured && Directory.Exists(configured) ? configured : null;
    }

    [Fact]
    public async Task Without_network_an_opened_session_ends_disconnected_with_a_reason()
    {
        var directory = BridgeDirectory();
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

        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Enabled"] = "true",
            ["WapBridge:Engines:Baileys:BridgeDirectory"] = directory,
        });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var created = await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" });
        Assert.True(created.Status == 200, created.Body?.ToJsonString());
        var id = created.Message!["instance_id"]!.GetValue<string>();

        var status = await client.WaitForStatusAsync(id, s =>
            s["status"]!.GetValue<string>() is "disconnected" or "qr" && (s["status"]!.GetValue<string>() == "qr" || s["last_error"] is not null), 60);
        if (status["status"]!.GetValue<string>() == "qr")
        {
            // WhatsApp was reachable after all: a QR code is the online outcome, and just as far from a crash.
            return;
        }
        var reason = status["last_error"]!.GetValue<string>();
        TestContext.Current.TestOutputHelper?.WriteLine($"offline reason: {reason}");
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.DoesNotContain("could not open", reason); // the bridge opened the session; the connection is what failed
        var bridge = Assert.Single(app.Engine().Supervisor.Processes);
        Assert.True(bridge.IsAlive, "the bridge process must survive a connection failure");
    }
}
