using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>An inbound message keeps its sender's push name and its conversation, and the message record shows them.</summary>
public abstract class SenderNameTests(WapBridgeApp app)
{
    [Fact]
    public async Task The_push_name_of_an_inbound_sender_is_stored_and_listed()
    {
        var owner = await app.CreateConnectedAsync();
        var named = (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
        {
            instance_id = owner.InstanceId, from_number = "255757900001", message = "Habari", push_name = "  Asha M.  ",
        })).EnsureOk().Message!["id"]!.GetValue<string>();
        var anonymous = (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
        {
            instance_id = owner.InstanceId, from_number = "255757900002", message = "Hi", push_name = new string('x', 150),
        })).EnsureOk().Message!["id"]!.GetValue<string>();

        var record = await owner.Client.WaitForMessageAsync(named, _ => true);
        Assert.Equal("Asha M.", record["sender_name"]!.GetValue<string>());
        Assert.Equal(100, (await owner.Client.WaitForMessageAsync(anonymous, _ => true))["sender_name"]!.GetValue<string>().Length);
        var listed = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = owner.InstanceId, direction = "inbound" }))
            .EnsureOk().Message!["data"]!.AsArray();
        Assert.Contains(listed, m => m!["sender_name"]?.GetValue<string>() == "Asha M.");
    }

    [Fact]
    public async Task A_group_message_is_told_from_a_direct_one_in_the_message_record()
    {
        var owner = await app.CreateConnectedAsync();
        var inGroup = (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
        {
            instance_id = owner.InstanceId, from_number = "255757900003", group_id = "120363025246125486", message = "Hi all",
        })).EnsureOk().Message!["id"]!.GetValue<string>();
        var direct = (await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message", new
        {
            instance_id = owner.InstanceId, from_number = "255757900003", message = "Hi you",
        })).EnsureOk().Message!["id"]!.GetValue<string>();

        var group = await owner.Client.WaitForMessageAsync(inGroup, _ => true);
        Assert.Equal("120363025246125486@g.us", group["chat"]!.GetValue<string>());
        Assert.True(group["is_group"]!.GetValue<bool>());
        Assert.Equal("255757900003", group["from"]!.GetValue<string>());
        var one = await owner.Client.WaitForMessageAsync(direct, _ => true);
        Assert.Equal("255757900003", one["chat"]!.GetValue<string>());
        Assert.False(one["is_group"]!.GetValue<bool>());
    }
}

public sealed class SqliteSenderNameTests(SqliteMessagingApp app) : SenderNameTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresSenderNameTests(PostgresMessagingApp app) : SenderNameTests(app), IClassFixture<PostgresMessagingApp>;
