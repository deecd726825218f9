using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Core.Messaging;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The bridge protocol streams (issue 14 item 2), host side against the fake bridge: media moves as files in the
/// data folder both ways (never base64 in a line, never a path outside the data folder), lines over the limit are
/// refused without stopping the reader, and a bridge of another protocol version is refused with the fix.
/// </summary>
public sealed class BridgeStreamingTests
{
    private const string Customer = "255712345678";

    private static JsonNode ImageFixture() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", "image-caption.json")))!;

    private static List<JsonNode> MessageHooks(WebhookReceiver receiver) =>
        receiver.Received.Select(h => JsonNode.Parse(h.Body)!).Where(b => b["event"]!.GetValue<string>() == "message").Select(b => b["message"]!).ToList();

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task A_media_send_hands_the_bridge_the_stored_file_by_path_never_base64()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        var jpeg = new byte[50_000];
        jpeg[0] = 0xFF; jpeg[1] = 0xD8; jpeg[2] = 0xFF;
        var messageId = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
        {
            instance_id = id, to_number = Customer, media_data = Convert.ToBase64String(jpeg), mime_type = "image/jpeg", message = "Picha",
        })).EnsureOk().Message!["id"]!.GetValue<string>();
        await client.WaitForMessageAsync(messageId, r => r["status"]!.GetValue<string>() is "sent" or "delivered", 20);

        var sent = (await app.Engine().RequestAsync(id, "sent", new JsonObject())).GetProperty("sent").EnumerateArray().Single();
        var media = sent.GetProperty("media");
        Assert.False(media.GetProperty("base64").GetBoolean());
        Assert.Equal("image", media.GetProperty("kind").GetString());
        Assert.Equal(jpeg.Length, media.GetProperty("bytes").GetInt32());
        Assert.Equal(Sha256(jpeg), media.GetProperty("sha256").GetString());
        // The media store's own file: no copy is made when the store keeps files in the data folder.
        var path = media.GetProperty("path").GetString()!;
        Assert.Equal(Path.Combine(app.DataDir, "media", Sha256(jpeg)[..2], Sha256(jpeg)), path);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Inbound_media_is_moved_from_the_bridge_folder_into_the_media_store()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, id) = await app.PairedInstanceAsync(receiver);
        var image = ImageFixture();
        var bytes = Convert.FromBase64String(image["media"]!["base64"]!.GetValue<string>());
        var hash = Sha256(bytes);
        var bridgeFile = Path.Combine(app.DataDir, BridgeMediaFolder.FolderName, hash);

        await app.ScriptAsync(id, new { @do = "message", raw = image["raw"], media = image["media"] });
        await receiver.WaitForAsync(_ => MessageHooks(receiver).Count >= 1, 20);
        var photo = Assert.Single(MessageHooks(receiver));
        Assert.Equal(image["media"]!["base64"]!.GetValue<string>(), photo["media"]!["data"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(app.DataDir, "media", hash[..2], hash)), "the media store has the file");
        Assert.False(File.Exists(bridgeFile), "the bridge's file was moved, not copied");
    }

    [Fact]
    public async Task Inbound_media_outside_the_data_folder_is_refused_and_never_read()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, id) = await app.PairedInstanceAsync(receiver);
        var image = ImageFixture();
        var raw = image["raw"]!;
        // A file named by its hash, as the bridge names them, but outside the data folder.
        var secret = "not for the bridge to hand out"u8.ToArray();
        var outside = Directory.CreateTempSubdirectory("outside-data-");
        try
        {
            var hash = Sha256(secret);
            var path = Path.Combine(outside.FullName, hash);
            await File.WriteAllBytesAsync(path, secret);
            await app.ScriptAsync(id,
                new { @do = "event", name = "message", data = new { upsertType = "notify", raw, mediaPending = true } },
                new { @do = "event", name = "message_media", data = new { upsertType = "notify", raw, media = new { path, sha256 = hash, size = secret.Length, mimetype = "image/jpeg" } } });
            await receiver.WaitForAsync(_ => MessageHooks(receiver).Count >= 1, 20);
            var hook = Assert.Single(MessageHooks(receiver));
            Assert.Null(hook["media"]!["data"]);
            Assert.Contains("could not be taken over", hook["media"]!["error"]!.GetValue<string>());
            Assert.True(File.Exists(path), "a refused file is left alone");
            Assert.Null(await app.Services.GetRequiredService<IMediaStore>().GetLocalPathAsync(hash));
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_bridge_speaking_protocol_1_is_stopped_and_the_instance_shows_why()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(new Dictionary<string, string?>
        {
            ["WapBridge:Engines:Baileys:Environment:FAKE_BRIDGE_PROTOCOL"] = "1",
        });
        await app.InitializeAsync();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var id = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "baileys" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        const string reason = "the WhatsApp bridge speaks protocol 1, this WapBridge needs 2: reinstall baileys-bridge from this release";
        var status = await client.WaitForStatusAsync(id, s => s["last_error"]?.GetValue<string>() == reason, 20);
        Assert.Equal("disconnected", status["status"]!.GetValue<string>());
        // Stopped, and not started again: a restart cannot fix an old bridge, so the state stays put.
        Assert.Empty(app.Engine().Supervisor.Processes);
        await Task.Delay(1500);
        Assert.Empty(app.Engine().Supervisor.Processes);
        var later = await client.StatusAsync(id);
        Assert.Equal("disconnected", later["status"]!.GetValue<string>());
        Assert.Equal(reason, later["last_error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_bridge_line_over_MaxLineBytes_fails_its_request_and_the_reader_keeps_serving()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(new Dictionary<string, string?> { ["WapBridge:Engines:Baileys:MaxLineBytes"] = "65536" });
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        var error = await Assert.ThrowsAsync<BridgeException>(() => app.Engine().RequestAsync(id, "big", new JsonObject { ["bytes"] = 1_000_000 }));
        Assert.Equal("line_too_long", error.Code);
        Assert.Contains("MaxLineBytes", error.Message);
        var small = await app.Engine().RequestAsync(id, "big", new JsonObject { ["bytes"] = 10 });
        Assert.Equal("xxxxxxxxxx", small.GetProperty("blob").GetString());
        Assert.Equal("connected", (await client.StatusAsync(id))["status"]!.GetValue<string>());
    }
}
