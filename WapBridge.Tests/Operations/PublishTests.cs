using System.Diagnostics;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;
using static WapBridge.Tests.Engines.Baileys.RealBridgeSendTests;

namespace WapBridge.Tests.Operations;

/// <summary>
/// The folder <c>dotnet publish WapBridge.Web</c> makes, as an operator deploys it: copied away from the source tree,
/// started from another directory with a listen address and a data folder, it runs the real WhatsApp engine from the
/// bridge inside it. The bridge runs under the network guard, so a start that reached for the internet (Baileys asking
/// for the current WhatsApp Web version, a missing package fetched) fails the test.
/// </summary>
public sealed class PublishTests
{
    private const string Contact = "255712345678";

    /// <summary>
    /// <c>dotnet publish</c> of the configuration these tests were built in, from that build (<c>--no-build</c>: the
    /// publish step is what is under test, and CI already built the solution).
    /// </summary>
    private static async Task PublishAsync(string output)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var project = Path.Combine(GatewayProcess.RepositoryRoot, "WapBridge.Web", "WapBridge.Web.csproj");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "publish", project, "-c", configuration, "--no-build", "-o", output, "-nodeReuse:false", "-v:minimal" })
            info.ArgumentList.Add(argument);
        // The test run's own MSBuild variables would point the publish at the test host's build.
        foreach (var name in info.Environment.Keys.Where(n => n.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(process.ExitCode == 0, $"dotnet publish failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
    }

    [Fact]
    public async Task A_published_folder_runs_the_real_engine_from_its_own_bridge_with_no_engine_setting_and_no_network_at_start()
    {
        var sourceBridge = RealBridgeTests.RequireBridge();
        // Outside the source tree, so that nothing can find the repository's baileys-bridge by walking up.
        var root = Path.Combine(Path.GetTempPath(), "wapbridge-publish-" + Guid.NewGuid().ToString("N"));
        var app = Path.Combine(root, "app");
        var dataDir = Path.Combine(root, "data");
        try
        {
            await PublishAsync(app);
            var bridge = Path.Combine(app, "baileys-bridge");
            Assert.True(File.Exists(Path.Combine(bridge, "src", "main.js")), "the bridge's source is published");
            Assert.True(File.Exists(Path.Combine(bridge, "package-lock.json")), "the bridge's lock file is published");
            Assert.True(File.Exists(Path.Combine(bridge, "node_modules", "baileys", "package.json")), "the bridge's installed packages are published");
            Assert.False(Directory.Exists(Path.Combine(bridge, "test")), "the bridge's tests are not published");
            if (Directory.Exists(Path.Combine(sourceBridge, "node_modules", "eslint")))
                Assert.False(Directory.Exists(Path.Combine(bridge, "node_modules", "eslint")), "the bridge's dev-only packages (its linter) are not published");
            if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64)
            {
                // The optional dependency that turns GIFs into looping videos, still executable after the copy.
                var ffmpeg = Path.Combine(bridge, "node_modules", "@ffmpeg-installer", "linux-x64", "ffmpeg");
                Assert.True(File.Exists(ffmpeg), "the bridge's ffmpeg is published");
                Assert.True(File.GetUnixFileMode(ffmpeg).HasFlag(UnixFileMode.UserExecute), "the published ffmpeg is executable");
            }
            Assert.False(Directory.Exists(Path.Combine(bridge, "test-support")), "the bridge's test helpers are not published");

            await using var wa = await FakeWhatsApp.StartAsync(sourceBridge, Contact);
            var settings = new GatewaySettings().Set(new Dictionary<string, string>
            {
                // Test only: the shipped default (GatewayProcess turns the engine off for other tests)…
                ["WAPBRIDGE_Engines__Baileys__Enabled"] = "true",
                // …aimed at the fake WhatsApp server, whose test root the bridge trusts, under the network guard.
                ["WAPBRIDGE_Engines__Baileys__WebSocketUrl"] = wa.Url,
                ["NODE_OPTIONS"] = $"{HermeticDefaults.NodeOptions()} --import={wa.Preload}".Trim(),
            });
            foreach (var (name, value) in wa.ChildEnv)
                settings.Set(name, value!);
            Assert.Contains("no-network.js", settings.Environment["NODE_OPTIONS"]);

            await using var gateway = GatewayProcess.Start(dataDir, settings.Environment, dll: Path.Combine(app, "WapBridge.Web.dll"), workingDirectory: dataDir);
            await gateway.WaitHealthyAsync(settings.Address);
            using var admin = settings.Client("Bearer " + settings.AdminToken);
            var customer = (await admin.CallAsync("wap_bridge.api.admin.create_customer", new { name = "Deploy", email = "ops@deploy.example" })).EnsureOk().Message!["customer"]!.GetValue<string>();
            var key = (await admin.CallAsync("wap_bridge.api.admin.create_api_key", new { customer, label = "deploy" })).EnsureOk().Message!;
            using var client = settings.Client($"token {key["api_key"]}:{key["api_secret"]}");

            // No engine named: the real one is the default wherever it can run.
            var instance = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { name = "published" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
            var status = await client.WaitForStatusAsync(instance, s => s["status"]!.GetValue<string>() is "qr" or "disconnected", 60);
            Assert.True(status["status"]!.GetValue<string>() == "qr", $"expected a QR from the fake WhatsApp server, got {status.ToJsonString()}\n{gateway.Tail(60)}");
            Assert.Equal("baileys", status["engine"]!.GetValue<string>());
            var qr = (await client.CallAsync("wap_bridge.api.instances.get_qr", new { instance_id = instance })).EnsureOk().Message!["qr"]!.GetValue<string>();
            await wa.CommandAsync(new { @do = "scan", qr });
            await client.WaitForStatusAsync(instance, "connected", 60);

            var log = gateway.Tail(int.MaxValue);
            Assert.Contains($"bridge in {bridge}", log);
            Assert.DoesNotContain("network guard", log);
            Assert.DoesNotContain(Path.Combine(sourceBridge, "src"), log);
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
