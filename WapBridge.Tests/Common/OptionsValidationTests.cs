using WapBridge.Tests.Api;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Common;

/// <summary>A setting that makes no sense stops the start, and the message names the setting as the user writes it.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("WapBridge:Node:Id", "abc", "WAPBRIDGE_Node__Id (WapBridge:Node:Id) is 'abc'; it must be two digits such as 01")]
    [InlineData("WapBridge:Node:Id", "1", "WAPBRIDGE_Node__Id (WapBridge:Node:Id) is '1'; it must be two digits such as 01")]
    [InlineData("WapBridge:Webhooks:RetrySchedule:1", "-00:05:00", "WAPBRIDGE_Webhooks__RetrySchedule (WapBridge:Webhooks:RetrySchedule) has the delay -00:05:00")]
    [InlineData("WapBridge:Webhooks:AttemptTimeout", "00:00:00", "WAPBRIDGE_Webhooks__AttemptTimeout (WapBridge:Webhooks:AttemptTimeout) is 00:00:00; it must be longer than zero")]
    [InlineData("WapBridge:Messaging:InstanceMessagesPerSecond", "-1", "WAPBRIDGE_Messaging__InstanceMessagesPerSecond (WapBridge:Messaging:InstanceMessagesPerSecond) is -1")]
    [InlineData("WapBridge:Campaigns:RunnerSlice", "00:00:00", "WAPBRIDGE_Campaigns__RunnerSlice (WapBridge:Campaigns:RunnerSlice) is 00:00:00; it must be longer than zero")]
    [InlineData("WapBridge:Campaigns:MinDelaySeconds", "60", "WAPBRIDGE_Campaigns__MaxDelaySeconds (WapBridge:Campaigns:MaxDelaySeconds) is 30; it must be at least")]
    [InlineData("WapBridge:Cluster:MaxInstancesPerNode", "-1", "WAPBRIDGE_Cluster__MaxInstancesPerNode (WapBridge:Cluster:MaxInstancesPerNode) is -1")]
    public async Task A_nonsensical_setting_stops_the_start_naming_it(string key, string value, string message)
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await app.InitializeAsync());

        Assert.Contains(message, string.Join("\n", AuthFailureLimitTests.Flatten(error).Select(e => e.Message)));
    }

    [Fact]
    public async Task A_valid_node_id_starts_and_names_the_instances_it_creates()
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:Node:Id"] = "07" });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);

        var created = await client.CallAsync("wap_bridge.api.instances.create_instance", new { name = "Shop", engine = "simulator" });

        created.EnsureOk();
        Assert.StartsWith("INST-07-", created.Message!["instance_id"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
