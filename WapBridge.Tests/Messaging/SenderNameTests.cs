using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>An inbound message keeps its sender's push name, and the message record shows it.</summary>
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
}

public sealed class SqliteSenderNameTests(SqliteMessagingApp app) : SenderNameTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresSenderNameTests(PostgresMessagingApp app) : SenderNameTests(app), IClassFixture<PostgresMessagingApp>;
