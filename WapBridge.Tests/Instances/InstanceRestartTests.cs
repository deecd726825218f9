using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Instances;

public sealed class InstanceRestartTests
{
    [Fact]
    public async Task A_connected_instance_is_connected_again_after_a_restart_without_a_new_scan()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        string instanceId;
        TestCustomer customer;
        await using (var first = new WapBridgeApp(dataDir: dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            customer = await first.CreateCustomerAsync();
            using var client = first.CreateApiClient(customer.TokenHeader);
            instanceId = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk()
                .Message!["instance_id"]!.GetValue<string>();
            (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = instanceId, phone_number = "255700000777", push_name = "Kiosk" })).EnsureOk();
        }

        await using var second = new WapBridgeApp(dataDir: dataDir);
        await second.InitializeAsync();
        using var again = second.CreateApiClient(customer.TokenHeader);
        var status = (await again.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = instanceId })).EnsureOk().Message!;

        Assert.Equal("connected", status["status"]!.GetValue<string>());
        Assert.Equal("255700000777", status["phone_number"]!.GetValue<string>());
        Assert.Equal("Kiosk", status["push_name"]!.GetValue<string>());
    }
}
