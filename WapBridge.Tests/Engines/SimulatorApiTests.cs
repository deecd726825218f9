using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines;

/// <summary>The simulator through the API: one network per customer (contract §9), and the messaging media limits.</summary>
public abstract class SimulatorApiTests(WapBridgeApp app)
{
    private static async Task<int> InboundCountAsync(SendingCustomer owner) =>
        (await owner.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { direction = "inbound" })).EnsureOk().Message!["total"]!.GetValue<int>();

    [Fact]
    public async Task Another_customers_simulated_number_is_an_ordinary_contact_that_never_receives()
    {
        app.SkipIfUnavailable();
        var alice = await app.CreateConnectedAsync();
        var mallory = await app.CreateConnectedAsync();

        // To Mallory, Alice's simulated number is like any number outside Mallory's own instances: the send succeeds and
        // its receipts follow, so nothing tells it apart from the rest, but nothing arrives anywhere.
        var sent = (await mallory.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = mallory.InstanceId, to_number = alice.Phone, message = "Hi Alice, it's Mallory" })).EnsureOk().Message!;
        Assert.True(sent["ok"]!.GetValue<bool>());
        await mallory.Client.WaitForMessageAsync(sent["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() == "read");

        // Alice's own second number still reaches her, after Mallory's message would have.
        var shop = await app.ConnectInstanceAsync(alice.Customer);
        (await shop.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = shop.InstanceId, to_number = alice.Phone, message = "From the shop" })).EnsureOk();
        var inbox = (await alice.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { direction = "inbound" })).EnsureOk().Message!;
        var only = Assert.Single(inbox["data"]!.AsArray())!;
        Assert.Equal("From the shop", only["body"]!.GetValue<string>());
        Assert.Equal(shop.Phone, only["from"]!.GetValue<string>());
    }

    [Fact]
    public async Task Inbound_media_over_the_messaging_limit_is_417_naming_media_data()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        // FastMessaging limits images to 64 KiB.
        var oversize = new byte[70_000];
        oversize[0] = 0xFF; oversize[1] = 0xD8; oversize[2] = 0xFF;
        var media = Convert.ToBase64String(oversize);

        var single = await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message",
            new { instance_id = owner.InstanceId, from_number = "255755123456", media_data = media, mime_type = "image/jpeg" });
        Assert.Equal(417, single.Status);
        Assert.Equal("ValidationError", single.ExcType);
        Assert.Equal("media_too_large", single.ErrorCode);
        Assert.Equal("media_data", single.ErrorField);

        var batch = await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_messages", new
        {
            instance_id = owner.InstanceId,
            messages = new object[]
            {
                new { from_number = "255755123456", message = "fits" },
                new { from_number = "255755123456", media_data = media, mime_type = "image/jpeg" },
            },
        });
        Assert.Equal(417, batch.Status);
        Assert.Equal("media_too_large", batch.ErrorCode);
        Assert.Equal("messages[1].media_data", batch.ErrorField);

        Assert.Equal(0, await InboundCountAsync(owner));
        var fits = await owner.Client.CallAsync("wap_bridge.api.simulator.inbound_message",
            new { instance_id = owner.InstanceId, from_number = "255755123456", media_data = Convert.ToBase64String(oversize[..60_000]), mime_type = "image/jpeg" });
        fits.EnsureOk();
    }

    [Fact]
    public async Task A_pairing_code_for_a_connected_instance_is_a_409_naming_instance_id()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();

        // The engine refuses in its own terms (EngineSessionStateException); the instance edge answers as the API always did.
        var answer = await owner.Client.CallAsync("wap_bridge.api.instances.request_pairing_code",
            new { instance_id = owner.InstanceId, phone_number = "+255 757 000 001" });

        Assert.Equal(409, answer.Status);
        Assert.Equal("DuplicateEntryError", answer.ExcType);
        Assert.Equal("not_pairing", answer.ErrorCode);
        Assert.Equal("instance_id", answer.ErrorField);
        Assert.Equal("The instance is not waiting to be paired.", answer.Body?["error"]?["message"]?.GetValue<string>());
    }
}


public sealed class SqliteSimulatorApiTests(SqliteMessagingApp app) : SimulatorApiTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresSimulatorApiTests(PostgresMessagingApp app) : SimulatorApiTests(app), IClassFixture<PostgresMessagingApp>;
