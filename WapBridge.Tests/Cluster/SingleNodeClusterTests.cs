using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Cluster;

/// <summary>The default server as a cluster of one: its node, its fence and its placement cap, through the API.</summary>
public sealed class SingleNodeClusterTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task List_nodes_shows_this_node_active_with_the_instances_living_on_it_and_instance_status_names_it(string provider)
    {
        await using var app = new WapBridgeApp(provider);
        await app.InitializeAsync();
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var instanceId = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk()
            .Message!["instance_id"]!.GetValue<string>();
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = instanceId, phone_number = "255700000301" })).EnsureOk();

        var status = (await client.CallAsync("wap_bridge.api.instances.instance_status", new { instance_id = instanceId })).EnsureOk().Message!;
        Assert.Equal("01", status["node"]!.GetValue<string>());

        using var admin = app.CreateApiClient($"Bearer {WapBridgeApp.AdminToken}");
        var nodes = (await admin.CallAsync("wap_bridge.api.admin.list_nodes")).EnsureOk().Message!.AsArray();
        var node = Assert.Single(nodes)!;
        Assert.Equal("01", node["node"]!.GetValue<string>());
        Assert.Equal("active", node["status"]!.GetValue<string>());
        Assert.Equal(1, node["instances"]!.GetValue<int>());
        Assert.StartsWith("127.0.0.1:", node["address"]!.GetValue<string>());
        Assert.True(node["last_seen"]!.GetValue<DateTimeOffset>() >= node["started_at"]!.GetValue<DateTimeOffset>());

        // Nodes are the operator's business: a customer's key does not see them.
        Assert.Equal(403, (await client.CallAsync("wap_bridge.api.admin.list_nodes")).Status);
    }

    [Fact]
    public async Task A_session_whose_fence_another_node_took_closes_here_without_writing_the_instance()
    {
        await using var app = new WapBridgeApp();
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var instanceId = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk()
            .Message!["instance_id"]!.GetValue<string>();
        (await client.CallAsync("wap_bridge.api.simulator.scan_qr", new { instance_id = instanceId, phone_number = "255700000302" })).EnsureOk();
        var local = app.Services.GetRequiredService<LocalInstances>();
        Assert.NotNull(local.Session(instanceId));

        // Another node took the instance over (as after this node was declared dead while it was only slow).
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
            await db.Instances.Where(i => i.Code == instanceId).ExecuteUpdateAsync(u => u
                .SetProperty(i => i.SessionNode, "02")
                .SetProperty(i => i.NodeId, "02")
                .SetProperty(i => i.SessionEpoch, i => i.SessionEpoch + 1));

        // Its next event here (the connection drops) must not overwrite the row, and the session closes.
        await app.Services.GetRequiredService<Core.Engines.Simulator.SimulatorNetwork>().DropConnectionAsync(instanceId);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (local.Session(instanceId) is not null && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Null(local.Session(instanceId));
        await using var check = await dbFactory.CreateDbContextAsync();
        var row = await check.Instances.AsNoTracking().SingleAsync(i => i.Code == instanceId);
        Assert.Equal(InstanceState.Connected, row.State);
        Assert.Equal("02", row.SessionNode);
        Assert.DoesNotContain(await check.InstanceStateChanges.Where(c => c.InstanceId == row.Id).Select(c => c.State).ToListAsync(), s => s == InstanceState.Disconnected);
    }

    [Fact]
    public async Task A_node_at_its_instance_cap_refuses_a_new_instance_with_the_setting_to_change()
    {
        await using var app = new WapBridgeApp(settings: new Dictionary<string, string?> { ["WapBridge:Cluster:MaxInstancesPerNode"] = "1" });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk();

        var refused = await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" });
        Assert.Equal(409, refused.Status);
        Assert.Equal("cluster_full", refused.ErrorCode);
        Assert.Contains("WAPBRIDGE_Cluster__MaxInstancesPerNode", refused.Body!.ToJsonString());
        // Refused, not left behind without a session.
        var listed = (await client.CallAsync("wap_bridge.api.instances.list_instances")).EnsureOk().Message!;
        Assert.Equal(1, listed["total"]!.GetValue<int>());
    }
}
