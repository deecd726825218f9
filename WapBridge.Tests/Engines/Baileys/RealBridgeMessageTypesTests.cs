using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using FakeWhatsApp = WapBridge.Tests.Engines.Baileys.RealBridgeSendTests.FakeWhatsApp;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// What a contact's phone sends besides text, end to end: the fake WhatsApp server encrypts it, the real bridge and
/// Baileys decrypt it, WapBridge stores it and sends the <c>message</c> webhook (contract §5), all on loopback.
/// </summary>
public sealed class RealBridgeMessageTypesTests
{
    private const string Contact = "255712345678";

    private static async Task<List<Core.Messaging.Message>> InboundAsync(WapBridgeApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>();
        return await db.Messages.AsNoTracking().Where(m => m.Direction == Core.Messaging.Message.Inbound).OrderBy(m => m.Id).ToListAsync();
    }

    private static List<JsonNode> MessageHooks(WebhookReceiver receiver) =>
        receiver.Received.Select(h => JsonNode.Parse(h.Body)!).Where(b => b["event"]!.GetValue<string>() == "message").Select(b => b["message"]!).ToList();

    private static async Task<JsonNode> HookForAsync(WebhookReceiver receiver, string waId, int seconds = 30)
    {
        await receiver.WaitForAsync(_ => MessageHooks(receiver).Any(m => m["id"]!.GetValue<string>().EndsWith("_" + waId, StringComparison.Ordinal)), seconds);
        return MessageHooks(receiver).Single(m => m["id"]!.GetValue<string>().EndsWith("_" + waId, StringComparison.Ordinal));
    }

    private static async Task<string> SendAsync(FakeWhatsApp wa, object message) =>
        (await wa.CommandAsync(new { @do = "send", from = Contact, message }))["id"]!.GetValue<string>();

    [Fact]
    public async Task Reactions_edits_revokes_video_notes_and_poll_votes_from_a_real_phone_are_stored_and_webhooked_as_the_contract_says()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, media: true, Contact);
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(RealBridgeSendTests.Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, _) = await RealBridgeSendTests.LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;
        (await client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "message" } })).EnsureOk();
        var account = wa.Account;

        var original = await SendAsync(wa, new { conversation = "Bei ni 5000" });
        Assert.Equal("Bei ni 5000", (await HookForAsync(receiver, original))["body"]!.GetValue<string>());

        // Reaction, and its removal (an empty emoji).
        var target = new { remoteJid = account, fromMe = true, id = original };
        var reaction = await SendAsync(wa, new { reactionMessage = new { key = target, text = "👍", senderTimestampMs = 1 } });
        var reacted = await HookForAsync(receiver, reaction);
        Assert.Equal(("reaction", "👍", original), (reacted["type"]!.GetValue<string>(), reacted["body"]!.GetValue<string>(), reacted["reaction"]!["msgId"]!.GetValue<string>()));
        var removal = await SendAsync(wa, new { reactionMessage = new { key = target, text = "", senderTimestampMs = 2 } });
        var removed = await HookForAsync(receiver, removal);
        Assert.Equal(("reaction", ""), (removed["type"]!.GetValue<string>(), removed["reaction"]!["emoji"]!.GetValue<string>()));

        // An edit changes the stored original; it is no message of its own.
        var edit = await SendAsync(wa, new { protocolMessage = new { key = target, type = 14, editedMessage = new { conversation = "Bei ni 4500" }, timestampMs = 3 } });

        // A revoke is a message of type revoked naming what was deleted (another message: the edited one is checked below).
        var second = await SendAsync(wa, new { conversation = "Nitakuja kesho" });
        await HookForAsync(receiver, second);
        var revoke = await SendAsync(wa, new { protocolMessage = new { key = new { remoteJid = account, fromMe = true, id = second }, type = 0 } });
        var revoked = await HookForAsync(receiver, revoke);
        Assert.Equal(("revoked", second), (revoked["type"]!.GetValue<string>(), revoked["revokedId"]!.GetValue<string>()));

        // A round video note: a video with its media.
        var video = new byte[3000];
        Random.Shared.NextBytes(video);
        var note = (await wa.CommandAsync(new { @do = "send_media", from = Contact, type = "video", field = "ptvMessage", base64 = Convert.ToBase64String(video), mimetype = "video/mp4" }))["id"]!.GetValue<string>();
        var noted = await HookForAsync(receiver, note);
        Assert.Equal("video", noted["type"]!.GetValue<string>());
        Assert.True(noted["hasMedia"]!.GetValue<bool>());
        Assert.Equal(video, Convert.FromBase64String(noted["media"]!["data"]!.GetValue<string>()));

        // The contact's poll, then their vote on it: the poll is a message, the vote is not.
        var secret = new byte[32];
        Random.Shared.NextBytes(secret);
        var poll = await SendAsync(wa, new
        {
            pollCreationMessageV3 = new { name = "Siku gani?", options = new[] { new { optionName = "Jumatatu" }, new { optionName = "Jumanne" } }, selectableOptionsCount = 1 },
            messageContextInfo = new { messageSecret = Convert.ToBase64String(secret) },
        });
        Assert.Equal("poll_creation", (await HookForAsync(receiver, poll))["type"]!.GetValue<string>());
        var vote = (await wa.CommandAsync(new { @do = "poll_vote", from = Contact, pollId = poll, creator = Contact + "@s.whatsapp.net", secret = Convert.ToBase64String(secret), options = new[] { "Jumanne" } }))["id"]!.GetValue<string>();

        // Inbound events are handled in order: once this one is in, the edit and the vote were handled too.
        var last = await SendAsync(wa, new { conversation = "mwisho" });
        await HookForAsync(receiver, last);

        var rows = await InboundAsync(app);
        Assert.Equal("Bei ni 4500", rows.Single(m => m.WaMessageId == original).Body);
        // Our copy of a message its sender deleted for everyone is gone too.
        Assert.Equal(("revoked", null), (rows.Single(m => m.WaMessageId == second).Type, rows.Single(m => m.WaMessageId == second).Body));
        Assert.DoesNotContain(rows, m => m.WaMessageId == edit || m.WaMessageId == vote);
        Assert.DoesNotContain(rows, m => m.Type == "unknown");
        Assert.DoesNotContain(MessageHooks(receiver), m => m["type"]!.GetValue<string>() == "unknown");
        Assert.DoesNotContain(MessageHooks(receiver), m => m["id"]!.GetValue<string>().EndsWith("_" + edit, StringComparison.Ordinal)
            || m["id"]!.GetValue<string>().EndsWith("_" + vote, StringComparison.Ordinal));
        Assert.Equal("video", rows.Single(m => m.WaMessageId == note).Type);
        Assert.Equal(video.Length, rows.Single(m => m.WaMessageId == note).MediaSize);
    }
    [Fact]
    public async Task A_webp_is_sent_as_an_image_and_a_gif_as_a_looping_mp4_video()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, media: true, Contact);
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(RealBridgeSendTests.Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        var (client, instance) = await RealBridgeSendTests.LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;

        async Task<JsonNode> SendMediaAsync(byte[] bytes, string mime, string filename)
        {
            var id = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
                    new { instance_id = instance, to_number = Contact, media_data = Convert.ToBase64String(bytes), mime_type = mime, filename }))
                .EnsureOk().Message!["id"]!.GetValue<string>();
            await client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", 30);
            await using var scope = app.Services.CreateAsyncScope();
            var waId = await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().Messages.Where(m => m.SerializedId == id).Select(m => m.WaMessageId).SingleAsync();
            return await wa.CommandAsync(new { @do = "decrypted", id = waId });
        }

        var webp = "RIFF\0\0\0\0WEBPVP8 "u8.ToArray().Concat(new byte[200]).ToArray();
        var image = await SendMediaAsync(webp, "image/webp", "photo.webp");
        Assert.Equal(("imageMessage", "image/webp", webp.Length), (image["field"]!.GetValue<string>(), image["mimetype"]!.GetValue<string>(), image["mediaLength"]!.GetValue<int>()));

        // WhatsApp plays GIFs only as MP4 video: the bridge transcodes with the ffmpeg it ships.
        var video = await SendMediaAsync(TwoFrameGif, "image/gif", "dance.gif");
        Assert.Equal(("videoMessage", "video/mp4", true, "ftyp"),
            (video["field"]!.GetValue<string>(), video["mimetype"]!.GetValue<string>(), video["gifPlayback"]!.GetValue<bool>(), video["mediaBox"]!.GetValue<string>()));
    }

    /// <summary>A 1×1 GIF89a looping over two 100 ms frames (LZW codes clear, pixel, end), as in the bridge's tests.</summary>
    private static readonly byte[] TwoFrameGif =
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
        0x21, 0xff, 11, .. "NETSCAPE2.0"u8, 3, 1, 0, 0, 0,
        0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0,
        0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4c, 0x01, 0,
        0x3b,
    ];
}
