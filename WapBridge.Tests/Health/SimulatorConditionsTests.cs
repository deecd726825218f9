using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>
/// Contract §12 <c>simulator.set_conditions</c> over HTTP: the simulator plays what WhatsApp does to a number (463 for new
/// contacts, a 402 ban until a time, blocks, answers from a share of first-message recipients), and the gateway reacts
/// as it does to the real thing (held sends, a banned instance that reconnects after the ban, failed sends, inbound replies).
/// </summary>
public abstract class SimulatorConditionsTests(WapBridgeApp app)
{
    private const string Sim = "wap_bridge.api.simulator.";

    private static async Task<JsonNode> SetAsync(SendingCustomer who, JsonObject conditions)
    {
        conditions["instance_id"] = who.InstanceId;
        return (await who.Client.CallAsync(Sim + "set_conditions", conditions)).EnsureOk().Message!;
    }

    private static async Task<string> SendAsync(SendingCustomer who, string to, string text = "Habari") =>
        (await who.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = who.InstanceId, to_number = to, message = text, wait = 0 }))
        .EnsureOk().Message!["id"]!.GetValue<string>();

    private async Task<Message> RowAsync(string serializedId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Messages.AsNoTracking().SingleAsync(m => m.SerializedId == serializedId);
    }

    private async Task<int> InboundFromAsync(SendingCustomer who, string number)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var instanceId = await db.Instances.Where(i => i.Code == who.InstanceId).Select(i => i.Id).SingleAsync();
        return await db.Messages.AsNoTracking().CountAsync(m => m.InstanceId == instanceId && m.Direction == Message.Inbound && m.FromNumber == number);
    }

    /// <summary>A time in whole seconds, as a client would write it.</summary>
    private static DateTimeOffset In(TimeSpan from)
    {
        var at = DateTimeOffset.UtcNow + from;
        return new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> done, string what, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{what} did not happen within {seconds} s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_restriction_holds_a_send_to_a_new_contact_until_it_ends_while_a_contact_who_wrote_first_still_gets_the_reply()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        const string regular = "255755300001", stranger = "255755300002";
        (await shop.Client.CallAsync(Sim + "inbound_message", new { instance_id = shop.InstanceId, from_number = regular, message = "Bei gani?" })).EnsureOk();
        var until = In(TimeSpan.FromHours(3));

        var answer = await SetAsync(shop, new JsonObject { ["restricted_until"] = until.ToString("O") });
        Assert.Equal(until, answer["restricted_until"]!.GetValue<DateTimeOffset>());
        Assert.Equal(shop.Phone, answer["phone_number"]!.GetValue<string>());

        // WhatsApp answers the first message to a stranger with 463: the outbox holds it until the restriction ends.
        var held = await SendAsync(shop, stranger);
        await EventuallyAsync(async () => (await RowAsync(held)).HoldReason == SendFailurePolicy.AccountRestricted, "the send held for the restriction");
        var row = await RowAsync(held);
        Assert.Equal(MessageStatus.Queued, row.Status);
        Assert.Equal(until, row.NextSendAt);
        var status = await shop.Client.StatusAsync(shop.InstanceId);
        Assert.Equal("connected", status["status"]!.GetValue<string>());
        Assert.Equal(until, status["restriction"]!["until"]!.GetValue<DateTimeOffset>());

        // The contact who wrote first gets the answer.
        var reply = await SendAsync(shop, regular, "Elfu tano");
        var sent = await shop.Client.WaitForMessageAsync(reply, m => m["status"]!.GetValue<string>() is "sent" or "delivered" or "read" or "failed");
        Assert.NotEqual("failed", sent["status"]!.GetValue<string>());
        Assert.Equal(MessageStatus.Queued, (await RowAsync(held)).Status);
    }

    [Fact]
    public async Task A_ban_closes_the_connection_as_WhatsApps_402_and_the_instance_reconnects_by_itself_when_it_ends()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        var until = In(TimeSpan.FromSeconds(4));

        await SetAsync(shop, new JsonObject { ["banned_until"] = until.ToString("O") });

        var banned = await shop.Client.WaitForStatusAsync(shop.InstanceId, "disconnected", 5);
        Assert.Equal("banned", banned["last_error"]!.GetValue<string>());
        Assert.Equal(until, banned["banned_until"]!.GetValue<DateTimeOffset>());
        Assert.Equal(until, banned["next_retry_at"]!.GetValue<DateTimeOffset>());
        // No reconnect before the ban ends: "Retry now" is refused, as for a real ban.
        var retry = await shop.Client.CallAsync("wap_bridge.api.instances.reconnect_instance", new { instance_id = shop.InstanceId });
        Assert.Equal(409, retry.Status);
        Assert.Equal("banned", retry.ErrorCode);

        var back = await shop.Client.WaitForStatusAsync(shop.InstanceId, "connected", 15);
        Assert.True(DateTimeOffset.UtcNow >= until, "reconnected before the ban ended");
        Assert.Null(back["banned_until"]?.GetValue<DateTimeOffset?>());
        Assert.Equal(shop.Phone, back["phone_number"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_ban_lifted_early_reconnects_at_once()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        await SetAsync(shop, new JsonObject { ["banned_until"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O") });
        await shop.Client.WaitForStatusAsync(shop.InstanceId, "disconnected", 5);

        var lifted = await SetAsync(shop, new JsonObject { ["banned_until"] = null });

        Assert.Null(lifted["banned_until"]?.GetValue<DateTimeOffset?>());
        await shop.Client.WaitForStatusAsync(shop.InstanceId, "connected", 5);
    }

    [Fact]
    public async Task Sends_to_numbers_that_blocked_the_instance_fail_as_blocked_until_the_block_is_cleared()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        var answer = await SetAsync(shop, new JsonObject { ["blocked_by"] = new JsonArray("+255 755 300 003", "255755300004@c.us") });
        Assert.Equal(["255755300003", "255755300004"], answer["blocked_by"]!.AsArray().Select(n => n!.GetValue<string>()));

        var blocked = await shop.Client.WaitForMessageAsync(await SendAsync(shop, "255755300003"), m => m["status"]!.GetValue<string>() == "failed");
        Assert.Equal(SendFailurePolicy.BlockedByRecipient, blocked["error_code"]!.GetValue<string>());
        var other = await shop.Client.WaitForMessageAsync(await SendAsync(shop, "255755300005"), m => m["status"]!.GetValue<string>() != "queued");
        Assert.NotEqual("failed", other["status"]!.GetValue<string>());

        // Another condition leaves the blocks as they are; null clears them.
        var kept = await SetAsync(shop, new JsonObject { ["reply_rate"] = 0 });
        Assert.Equal(2, kept["blocked_by"]!.AsArray().Count);
        var cleared = await SetAsync(shop, new JsonObject { ["blocked_by"] = null });
        Assert.Empty(cleared["blocked_by"]!.AsArray());
        Assert.Equal(0, cleared["reply_rate"]!.GetValue<double>());
        var unblocked = await shop.Client.WaitForMessageAsync(await SendAsync(shop, "255755300003"), m => m["status"]!.GetValue<string>() != "queued");
        Assert.NotEqual("failed", unblocked["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task With_a_reply_rate_of_one_every_first_message_recipient_answers_once_and_with_zero_nobody_does()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        await SetAsync(shop, new JsonObject { ["reply_rate"] = 1 });

        await SendAsync(shop, "255755300011");
        await EventuallyAsync(async () => await InboundFromAsync(shop, "255755300011") == 1, "the recipient's answer");
        // A second message to the same contact is no first message: no second automatic answer.
        await SendAsync(shop, "255755300011", "Karibu tena");

        await SetAsync(shop, new JsonObject { ["reply_rate"] = 0 });
        var silent = await SendAsync(shop, "255755300012");
        await shop.Client.WaitForMessageAsync(silent, m => m["status"]!.GetValue<string>() == "read");
        await Task.Delay(1500); // past the time an answer would take (read after 0.2 s, answer 1 s later)
        Assert.Equal(0, await InboundFromAsync(shop, "255755300012"));
        Assert.Equal(1, await InboundFromAsync(shop, "255755300011"));
    }

    [Fact]
    public async Task Conditions_survive_a_restart_of_the_instance()
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        await SetAsync(shop, new JsonObject { ["blocked_by"] = new JsonArray("255755300021") });

        var before = (await shop.Client.WaitForStatusAsync(shop.InstanceId, "connected"))["connected_at"]!.GetValue<DateTimeOffset>();
        (await shop.Client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = shop.InstanceId })).EnsureOk();
        // Connected again, not still connected from before the restart took effect.
        await shop.Client.WaitForStatusAsync(shop.InstanceId,
            s => s["status"]!.GetValue<string>() == "connected" && s["connected_at"]!.GetValue<DateTimeOffset>() > before);

        var blocked = await shop.Client.WaitForMessageAsync(await SendAsync(shop, "255755300021"), m => m["status"]!.GetValue<string>() == "failed", seconds: 30);
        Assert.Equal(SendFailurePolicy.BlockedByRecipient, blocked["error_code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"restricted_until":"2001-01-01T00:00:00Z"}""", "restricted_until", "not_in_future")]
    [InlineData("""{"banned_until":"soon"}""", "banned_until", null)]
    [InlineData("""{"reply_rate":1.5}""", "reply_rate", "out_of_range")]
    [InlineData("""{"reply_rate":-0.1}""", "reply_rate", "out_of_range")]
    [InlineData("""{"blocked_by":["255755300031","not a number"]}""", "blocked_by[1]", null)]
    [InlineData("""{"blocked_by":"[1,null]"}""", "blocked_by[1]", null)]
    public async Task Bad_conditions_are_refused_naming_the_argument(string json, string field, string? code)
    {
        app.SkipIfUnavailable();
        var shop = await app.CreateConnectedAsync();
        var args = JsonNode.Parse(json)!.AsObject();
        args["instance_id"] = shop.InstanceId;

        var answer = await shop.Client.CallAsync(Sim + "set_conditions", args);

        Assert.Equal(417, answer.Status);
        Assert.Equal(field, answer.ErrorField);
        if (code is not null)
            Assert.Equal(code, answer.ErrorCode);
    }

    [Fact]
    public async Task An_instance_never_paired_has_no_number_to_set_conditions_on()
    {
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();

        var answer = await client.CallAsync(Sim + "set_conditions", new { instance_id = id, reply_rate = 0.5 });

        Assert.Equal(417, answer.Status);
        Assert.Equal("instance_id", answer.ErrorField);
        Assert.Equal("not_paired", answer.ErrorCode);
    }
}

public sealed class SqliteSimulatorConditionsTests(SqliteMessagingApp app) : SimulatorConditionsTests(app), IClassFixture<SqliteMessagingApp>;

public sealed class PostgresSimulatorConditionsTests(PostgresMessagingApp app) : SimulatorConditionsTests(app), IClassFixture<PostgresMessagingApp>;
