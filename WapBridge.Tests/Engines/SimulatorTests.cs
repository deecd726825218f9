using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Tests.Engines.Simulator;

namespace WapBridge.Tests.Engines;

[Trait("Category", "Unit")]
public sealed class SimulatorTests
{
    private readonly SimulatorHarness _sim = new();

    [Fact]
    public async Task Qr_rotates_like_whatsapp_web_then_gives_up()
    {
        var (session, sink, _) = _sim.Open("INST-01-0000001");
        await session.ConnectAsync(TestContext.Current.CancellationToken);

        var first = Assert.Single(sink.Of<QrCodeEvent>());
        Assert.Equal(_sim.Time.GetUtcNow() + TimeSpan.FromSeconds(60), first.ExpiresAt);

        _sim.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Single(sink.Of<QrCodeEvent>());
        _sim.Time.Advance(TimeSpan.FromSeconds(1));
        var second = sink.Of<QrCodeEvent>()[1];
        Assert.NotEqual(first.Qr, second.Qr);
        Assert.Equal(_sim.Time.GetUtcNow() + TimeSpan.FromSeconds(20), second.ExpiresAt);

        for (var i = 0; i < 4; i++) _sim.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(6, sink.Of<QrCodeEvent>().Count);
        Assert.Empty(sink.Of<PairingExpiredEvent>());

        _sim.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Single(sink.Of<PairingExpiredEvent>());
        _sim.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(6, sink.Of<QrCodeEvent>().Count);
        await Assert.ThrowsAsync<WapBridgeException>(() => _sim.Network.ScanAsync("INST-01-0000001", "255700000001", null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Scan_connects_stores_credentials_and_stops_the_qr()
    {
        var (session, sink, credentials) = _sim.Open("INST-01-0000002");
        await session.ConnectAsync(TestContext.Current.CancellationToken);
        await _sim.Network.ScanAsync("INST-01-0000002", "255700000002", "Duka", TestContext.Current.CancellationToken);

        var connected = Assert.Single(sink.Of<ConnectedEvent>());
        Assert.Equal("255700000002", connected.PhoneNumber);
        Assert.Equal("Duka", connected.PushName);
        Assert.NotNull(credentials.Value);
        _sim.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Single(sink.Of<QrCodeEvent>());
    }

    [Fact]
    public async Task Stored_credentials_reconnect_without_a_scan()
    {
        var (first, _, credentials) = _sim.Open("INST-01-0000003");
        await first.ConnectAsync(TestContext.Current.CancellationToken);
        await _sim.Network.ScanAsync("INST-01-0000003", "255700000003", null, TestContext.Current.CancellationToken);
        await first.DisposeAsync();

        var (second, sink, _) = _sim.Open("INST-01-0000003", credentials);
        await second.ConnectAsync(TestContext.Current.CancellationToken);

        Assert.Empty(sink.Of<QrCodeEvent>());
        Assert.Equal("255700000003", Assert.Single(sink.Of<ConnectedEvent>()).PhoneNumber);
    }

    [Fact]
    public async Task Send_produces_sent_then_delivered_then_read_receipts()
    {
        var (session, sink, _, _) = await _sim.ConnectAsync("INST-01-0000004", "255700000004");
        var id = WhatsAppIds.NewMessageId();

        var result = await session.SendAsync(new OutgoingMessage(id, "255755123456", "Hello"), TestContext.Current.CancellationToken);

        Assert.True(result.Accepted);
        Assert.Equal([MessageAck.Server], sink.Of<MessageStatusEvent>().Select(e => e.Ack));
        _sim.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([MessageAck.Server, MessageAck.Device], sink.Of<MessageStatusEvent>().Select(e => e.Ack));
        _sim.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([MessageAck.Server, MessageAck.Device, MessageAck.Read], sink.Of<MessageStatusEvent>().Select(e => e.Ack));
        Assert.All(sink.Of<MessageStatusEvent>(), e => Assert.Equal(id, e.MessageId));
    }

    [Fact]
    public async Task Send_waits_for_the_configured_latency()
    {
        _sim.Options.SendLatency = TimeSpan.FromMilliseconds(500);
        var (session, _, _, _) = await _sim.ConnectAsync("INST-01-0000005", "255700000005");

        var send = session.SendAsync(new OutgoingMessage(WhatsAppIds.NewMessageId(), "255755123456", "Hi"), TestContext.Current.CancellationToken);
        Assert.False(send.IsCompleted);
        _sim.Time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True((await send).Accepted);
    }

    [Fact]
    public async Task Numbers_not_on_whatsapp_fail_with_that_reason()
    {
        var (session, sink, _, _) = await _sim.ConnectAsync("INST-01-0000006", "255700000006");
        var result = await session.SendAsync(new OutgoingMessage(WhatsAppIds.NewMessageId(), "255755129999", "Hi"), TestContext.Current.CancellationToken);

        Assert.False(result.Accepted);
        Assert.Equal("not_on_whatsapp", result.ErrorCode);
        Assert.Empty(sink.Of<MessageStatusEvent>());
    }

    [Fact]
    public async Task Two_instances_message_each_other_and_a_resend_is_collapsed()
    {
        var (alice, _, _, _) = await _sim.ConnectAsync("INST-01-0000007", "255700000007");
        var (_, bobSink, _, _) = await _sim.ConnectAsync("INST-01-0000008", "255700000008");
        var message = new OutgoingMessage(WhatsAppIds.NewMessageId(), "255700000008", "Habari");

        await alice.SendAsync(message, TestContext.Current.CancellationToken);
        await alice.SendAsync(message, TestContext.Current.CancellationToken);

        var received = Assert.Single(bobSink.Of<MessageReceivedEvent>()).Message;
        Assert.Equal(message.Id, received.Id);
        Assert.Equal("255700000007", received.FromPhone);
        Assert.Equal("Habari", received.Body);
        Assert.Equal("chat", received.Type);
        Assert.Equal("Shop 255700000007", received.PushName);
    }

    [Fact]
    public async Task Another_customers_instance_is_an_outside_number_that_receives_nothing()
    {
        var (alice, aliceSink, _, _) = await _sim.ConnectAsync("INST-01-0000017", "255700000017", customerId: 1);
        var (_, bobSink, _, _) = await _sim.ConnectAsync("INST-01-0000018", "255700000018", customerId: 2);

        var result = await alice.SendAsync(new OutgoingMessage(WhatsAppIds.NewMessageId(), "255700000018", "Habari"), TestContext.Current.CancellationToken);

        Assert.True(result.Accepted);
        Assert.Equal([MessageAck.Server], aliceSink.Of<MessageStatusEvent>().Select(e => e.Ack));
        Assert.Empty(bobSink.Of<MessageReceivedEvent>());
    }

    [Fact]
    public async Task Injected_inbound_text_and_media_arrive_as_events()
    {
        var (_, sink, _, _) = await _sim.ConnectAsync("INST-01-0000009", "255700000009");
        var textId = await _sim.Network.InjectInboundAsync("INST-01-0000009", new SimulatedInbound("255755123456", null, "Sawa", PushName: "Asha"), TestContext.Current.CancellationToken);
        var image = new EngineMedia([0xFF, 0xD8, 0xFF, 0xE0], "image/jpeg", "photo.jpg");
        await _sim.Network.InjectInboundAsync("INST-01-0000009",
            new SimulatedInbound(null, "120542636048510@lid", null, image, "Sawa", GroupId: "120363025246125486@g.us"), TestContext.Current.CancellationToken);

        var messages = sink.Of<MessageReceivedEvent>().Select(e => e.Message).ToList();
        Assert.Equal(textId, messages[0].Id);
        Assert.Equal(("chat", "Sawa", "Asha"), (messages[0].Type, messages[0].Body, messages[0].PushName));
        Assert.Equal(("image", "Sawa", "120542636048510@lid"), (messages[1].Type, messages[1].Body, messages[1].FromLid));
        Assert.Equal("120363025246125486@g.us", messages[1].GroupId);
        Assert.Equal("image/jpeg", messages[1].Media!.MimeType);
    }

    [Fact]
    public async Task Dropped_connection_is_transient_and_reconnects_with_credentials()
    {
        var (session, sink, _, _) = await _sim.ConnectAsync("INST-01-0000010", "255700000010");
        await _sim.Network.DropConnectionAsync("INST-01-0000010", TestContext.Current.CancellationToken);

        Assert.True(Assert.Single(sink.Of<DisconnectedEvent>()).Transient);
        var failed = await session.SendAsync(new OutgoingMessage(WhatsAppIds.NewMessageId(), "255755123456", "x"), TestContext.Current.CancellationToken);
        Assert.Equal("not_connected", failed.ErrorCode);

        await session.ConnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, sink.Of<ConnectedEvent>().Count);
    }

    [Fact]
    public async Task Random_disconnects_happen_when_configured()
    {
        _sim.Options.RandomDisconnectWithin = TimeSpan.FromMinutes(1);
        var (_, sink, _, _) = await _sim.ConnectAsync("INST-01-0000011", "255700000011");
        _sim.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("random_disconnect", Assert.Single(sink.Of<DisconnectedEvent>()).Reason);
    }

    [Fact]
    public async Task Logout_forgets_credentials()
    {
        var (session, sink, credentials) = _sim.Open("INST-01-0000012");
        await session.ConnectAsync(TestContext.Current.CancellationToken);
        await _sim.Network.ScanAsync("INST-01-0000012", "255700000012", null, TestContext.Current.CancellationToken);

        await session.LogoutAsync(TestContext.Current.CancellationToken);

        Assert.Null(credentials.Value);
        Assert.Single(sink.Of<LoggedOutEvent>());
    }

    [Fact]
    public async Task Unlinking_from_the_phone_logs_out_with_that_reason()
    {
        var (_, sink, _, _) = await _sim.ConnectAsync("INST-01-0000013", "255700000013");
        await _sim.Network.UnlinkFromPhoneAsync("INST-01-0000013", TestContext.Current.CancellationToken);
        Assert.Equal("unlinked_from_phone", Assert.Single(sink.Of<LoggedOutEvent>()).Reason);
    }

    [Fact]
    public async Task Pairing_code_flow_connects_the_requested_number_only()
    {
        var (session, sink, _) = _sim.Open("INST-01-0000014");
        await session.ConnectAsync(TestContext.Current.CancellationToken);
        var code = await session.RequestPairingCodeAsync("255700000014", TestContext.Current.CancellationToken);

        Assert.Matches("^[A-Z0-9]{8}$", code);
        Assert.Equal(code, Assert.Single(sink.Of<PairingCodeEvent>()).Code);
        var wrong = await Assert.ThrowsAsync<WapBridgeException>(() => _sim.Network.ScanAsync("INST-01-0000014", "255700000099", null, TestContext.Current.CancellationToken));
        Assert.Equal("phone_number", wrong.Field);

        await _sim.Network.ScanAsync("INST-01-0000014", "255700000014", null, TestContext.Current.CancellationToken);
        Assert.Single(sink.Of<ConnectedEvent>());
    }

    [Theory]
    [InlineData("image/jpeg", "image")]
    [InlineData("image/webp", "sticker")]
    [InlineData("video/mp4", "video")]
    [InlineData("audio/ogg; codecs=opus", "ptt")]
    [InlineData("audio/mpeg", "audio")]
    [InlineData("application/pdf", "document")]
    [InlineData(null, "chat")]
    public void Message_type_follows_the_mime_type(string? mime, string type) =>
        Assert.Equal(type, WhatsAppIds.MessageTypeFor(mime));
}
