using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// Inbound on the Baileys engine, host side against the fake bridge: nothing lost (a failed commit is retried),
/// nothing twice (the same message by LID and by phone number), no webhook before its media, LID senders
/// resolved from the stored LID map, undecryptable messages counted, and a lost key ring as a final state.
/// </summary>
public sealed class BaileysInboundTests
{
    private const string Lid = "120542636048510";
    private const string Phone = "255757197676";

    private static JsonObject Text(string id, string remoteJid, string text, string? remoteJidAlt = null, string addressingMode = "pn")
    {
        var key = new JsonObject { ["remoteJid"] = remoteJid, ["fromMe"] = false, ["id"] = id, ["addressingMode"] = addressingMode };
        if (remoteJidAlt is not null)
            key["remoteJidAlt"] = remoteJidAlt;
        return new JsonObject { ["key"] = key, ["messageTimestamp"] = 1767791651, ["pushName"] = "Mteja", ["message"] = new JsonObject { ["conversation"] = text } };
    }

    private static JsonNode ImageRaw() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", "image-caption.json")))!;

    private static async Task<List<Core.Messaging.Message>> RowsAsync(WapBridgeApp app, string waId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Messages.AsNoTracking().Where(m => m.WaMessageId == waId).ToListAsync();
    }

    private static List<JsonNode> MessageHooks(WebhookReceiver receiver) =>
        receiver.Received.Select(h => JsonNode.Parse(h.Body)!).Where(b => b["event"]!.GetValue<string>() == "message").Select(b => b["message"]!).ToList();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition never held");
            await Task.Delay(50);
        }
    }

    private static async Task<WapBridgeApp> AppAsync(string provider)
    {
        FakeBridge.SkipWithoutNode();
        var app = new WapBridgeApp(provider, FakeBridge.Settings());
        await app.InitializeAsync();
        app.SkipIfUnavailable();
        return app;
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task The_same_message_by_lid_then_by_phone_is_one_row_and_one_webhook_and_later_lids_resolve_from_the_stored_map(string provider)
    {
        await using var app = await AppAsync(provider);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, id) = await app.PairedInstanceAsync(receiver);

        // First by LID alone (the phone is not known yet), then WhatsApp reveals the phone and the same message comes
        // again addressed by phone number (a redelivery after a reconnect), and once more exactly as the first time.
        await app.ScriptAsync(id,
            new { @do = "message", raw = Text("3EB0DUP0000000000001", Lid + "@lid", "Nipigie", addressingMode: "lid") },
            new { @do = "lid_mapping", lid = Lid + "@lid", pn = Phone + "@s.whatsapp.net" },
            new { @do = "message", raw = Text("3EB0DUP0000000000001", Phone + "@s.whatsapp.net", "Nipigie") },
            new { @do = "message", raw = Text("3EB0DUP0000000000001", Lid + "@lid", "Nipigie", addressingMode: "lid") },
            new { @do = "message", raw = Text("3EB0NEXT000000000001", Lid + "@lid", "Bado?", addressingMode: "lid") });

        await receiver.WaitForAsync(r => MessageHooks(receiver).Count >= 2, 20);
        await Task.Delay(1000); // a duplicate webhook would be queued by now
        var hooks = MessageHooks(receiver);
        Assert.Equal(2, hooks.Count);
        Assert.Single(await RowsAsync(app, "3EB0DUP0000000000001"));
        var first = Assert.Single(hooks, h => h["body"]!.GetValue<string>() == "Nipigie");
        Assert.Equal(Lid + "@lid", first["from"]!.GetValue<string>());
        // Once the mapping is known, a message by LID carries the phone number.
        var next = Assert.Single(hooks, h => h["body"]!.GetValue<string>() == "Bado?");
        Assert.Equal(Phone + "@c.us", next["from"]!.GetValue<string>());
        Assert.Equal(Phone, next["fromPhone"]!.GetValue<string>());
        Assert.Equal(Lid + "@lid", next["fromLid"]!.GetValue<string>());

        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var mapping = await db.LidMappings.SingleAsync(m => m.Lid == Lid);
            Assert.Equal(Phone, mapping.PhoneNumber);
        }

        // A new session (restart: the bridge tells nothing again) still resolves the LID from the stored map.
        (await client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = id })).EnsureOk();
        await client.WaitForStatusAsync(id, "connected");
        await app.ScriptAsync(id, new { @do = "message", raw = Text("3EB0AFTER00000000001", Lid + "@lid", "Tena", addressingMode: "lid") });
        await receiver.WaitForAsync(r => MessageHooks(receiver).Any(h => h["body"]!.GetValue<string>() == "Tena"), 20);
        var after = Assert.Single(MessageHooks(receiver), h => h["body"]!.GetValue<string>() == "Tena");
        Assert.Equal(Phone + "@c.us", after["from"]!.GetValue<string>());
    }

    private static JsonObject Edit(string id, string remoteJid, string targetId, string text)
    {
        var raw = Text(id, remoteJid, "");
        raw["message"] = new JsonObject
        {
            ["protocolMessage"] = new JsonObject
            {
                ["key"] = new JsonObject { ["remoteJid"] = "255757000001@s.whatsapp.net", ["fromMe"] = true, ["id"] = targetId },
                ["type"] = 14,
                ["editedMessage"] = new JsonObject { ["conversation"] = text },
            },
        };
        return raw;
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task An_edit_changes_only_its_senders_message_and_is_no_row_or_webhook_of_its_own(string provider)
    {
        await using var app = await AppAsync(provider);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (client, id) = await app.PairedInstanceAsync(receiver);
        const string other = "255757111111";

        // The original and its edit in one go (one commit batch), then someone else "editing" it, which WhatsApp
        // would never deliver but a forged message could: only the author may change a message.
        await app.ScriptAsync(id,
            new { @do = "message", raw = Text("3EB0ORIGINAL00000001", Phone + "@s.whatsapp.net", "Bei ni 5000") },
            new { @do = "message", raw = Edit("3EB0EDIT000000000001", Phone + "@s.whatsapp.net", "3EB0ORIGINAL00000001", "Bei ni 4500") },
            new { @do = "message", raw = Edit("3EB0EDIT000000000002", other + "@s.whatsapp.net", "3EB0ORIGINAL00000001", "Bure!") },
            new { @do = "message", raw = Text("3EB0LAST000000000001", Phone + "@s.whatsapp.net", "Asante") });

        await receiver.WaitForAsync(r => MessageHooks(receiver).Count >= 2, 20);
        await Task.Delay(500);
        Assert.Equal(["Asante", "Bei ni 5000"], MessageHooks(receiver).Select(h => h["body"]!.GetValue<string>()).Order());
        Assert.Equal("Bei ni 4500", Assert.Single(await RowsAsync(app, "3EB0ORIGINAL00000001")).Body);
        Assert.Empty(await RowsAsync(app, "3EB0EDIT000000000001"));
        Assert.Empty(await RowsAsync(app, "3EB0EDIT000000000002"));
        client.Dispose();
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_message_whose_commit_fails_is_stored_later_never_lost(string provider)
    {
        await using var app = await AppAsync(provider);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, id) = await app.PairedInstanceAsync(receiver);
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();

        // Every insert of a message fails (a locked or full database) until the trigger is dropped.
        await using (var db = await dbFactory.CreateDbContextAsync())
            await db.Database.ExecuteSqlRawAsync(app.Provider == "postgres"
                ? """
                  CREATE FUNCTION wapbridge_fail_insert() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected commit failure'; END $$ LANGUAGE plpgsql;
                  CREATE TRIGGER fail_inbound BEFORE INSERT ON "Messages" FOR EACH ROW EXECUTE FUNCTION wapbridge_fail_insert();
                  """
                : """CREATE TRIGGER fail_inbound BEFORE INSERT ON "Messages" BEGIN SELECT RAISE(ABORT, 'injected commit failure'); END;""");

        await app.ScriptAsync(id, new { @do = "message", raw = Text("3EB0RETRY00000000001", Phone + "@s.whatsapp.net", "Usipoteze") });
        await Task.Delay(1500); // at least two attempts fail meanwhile
        Assert.Empty(await RowsAsync(app, "3EB0RETRY00000000001"));

        await using (var db = await dbFactory.CreateDbContextAsync())
            await db.Database.ExecuteSqlRawAsync(app.Provider == "postgres" ? """DROP TRIGGER fail_inbound ON "Messages" """ : "DROP TRIGGER fail_inbound");

        await WaitUntilAsync(async () => (await RowsAsync(app, "3EB0RETRY00000000001")).Count == 1, 20);
        await receiver.WaitForAsync(r => MessageHooks(receiver).Any(h => h["body"]!.GetValue<string>() == "Usipoteze"), 20);
        Assert.Single(MessageHooks(receiver));
    }

    [Fact]
    public async Task The_message_webhook_waits_for_the_media_and_a_failed_download_says_media_error()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, id) = await app.PairedInstanceAsync(receiver);
        var image = ImageRaw();
        var raw = image["raw"]!;
        var waId = raw["key"]!["id"]!.GetValue<string>();

        // The bridge hands the message over at once and downloads afterwards: the row is stored, the webhook waits.
        await app.ScriptAsync(id, new { @do = "event", name = "message", data = new { upsertType = "notify", raw, mediaPending = true } });
        await WaitUntilAsync(async () => (await RowsAsync(app, waId)).Count == 1);
        await Task.Delay(800);
        Assert.Empty(MessageHooks(receiver));
        Assert.Null(Assert.Single(await RowsAsync(app, waId)).MediaHash);

        await app.ScriptAsync(id,
            new { @do = "event", name = "message_media", data = new { upsertType = "notify", raw, media = image["media"] } },
            new { @do = "event", name = "message_media", data = new { upsertType = "notify", raw, media = image["media"] } });
        await receiver.WaitForAsync(r => MessageHooks(receiver).Count >= 1, 20);
        await Task.Delay(800);
        var photo = Assert.Single(MessageHooks(receiver));
        Assert.True(photo["hasMedia"]!.GetValue<bool>());
        Assert.Equal(image["media"]!["base64"]!.GetValue<string>(), photo["media"]!["data"]!.GetValue<string>());
        var row = Assert.Single(await RowsAsync(app, waId));
        Assert.NotNull(row.MediaHash);
        Assert.Null(row.HoldReason);

        // A download that finally failed: the webhook comes, saying why there is no file.
        var failedRaw = JsonNode.Parse(raw.ToJsonString())!;
        failedRaw["key"]!["id"] = "3EB0IMGFAIL000000001";
        await app.ScriptAsync(id,
            new { @do = "event", name = "message", data = new { upsertType = "notify", raw = failedRaw, mediaPending = true } },
            new { @do = "event", name = "message_media", data = new { upsertType = "notify", raw = failedRaw, mediaError = "media expired (410)" } });
        await receiver.WaitForAsync(r => MessageHooks(receiver).Count >= 2, 20);
        var failed = MessageHooks(receiver).Single(h => h["id"]!.GetValue<string>().EndsWith("3EB0IMGFAIL000000001"));
        Assert.True(failed["hasMedia"]!.GetValue<bool>());
        Assert.Equal("media expired (410)", failed["media"]!["error"]!.GetValue<string>());
        Assert.Null(failed["media"]!["data"]);
    }

    [Fact]
    public async Task Undecryptable_messages_are_counted_on_the_instance()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        Assert.Equal(0, (await client.StatusAsync(id))["undecryptable_messages"]!.GetValue<int>());

        await app.ScriptAsync(id,
            new { @do = "event", name = "undecryptable", data = new { id = "BAD1", remoteJid = Lid + "@lid", error = "No session found to decrypt message" } },
            new { @do = "event", name = "undecryptable", data = new { id = "BAD2", remoteJid = Lid + "@lid" } });
        var status = await client.WaitForStatusAsync(id, s => s["undecryptable_messages"]!.GetValue<int>() == 2);
        Assert.Equal("connected", status["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_lost_key_ring_gives_a_final_state_instead_of_reconnecting_forever()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();

        // The auth state now reads as if encrypted under another key ring (the data folder's keys were lost).
        var otherRing = new EphemeralDataProtectionProvider().CreateProtector("WapBridge.Instances.EngineAuthState");
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            var instanceId = await db.Instances.Where(i => i.Code == id).Select(i => i.Id).SingleAsync();
            foreach (var entry in await db.EngineAuthEntries.Where(e => e.InstanceId == instanceId).ToListAsync())
                entry.Value = otherRing.Protect("{\"lost\":true}");
            await db.SaveChangesAsync();
        }

        (await client.CallAsync("wap_bridge.api.instances.restart_instance", new { instance_id = id })).EnsureOk();
        var status = await client.WaitForStatusAsync(id, s => s["last_error"]?.GetValue<string>() == "credentials unreadable: restore the key ring or pair again");
        Assert.Equal("disconnected", status["status"]!.GetValue<string>());
        await Task.Delay(2500); // a transient close would have been retried within 1 s
        var later = await client.StatusAsync(id);
        Assert.Equal("disconnected", later["status"]!.GetValue<string>());
        Assert.Equal("credentials unreadable: restore the key ring or pair again", later["last_error"]!.GetValue<string>());
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
        {
            // A final state: no reconnect attempt is pending.
            Assert.Equal(0, later["reconnect_attempts"]!.GetValue<int>());
            Assert.Null(later["next_retry_at"]?.GetValue<DateTimeOffset?>());
            Assert.Equal(1, await db.InstanceStateChanges.CountAsync(c => db.Instances.Any(i => i.Id == c.InstanceId && i.Code == id)
                && c.Reason == "credentials unreadable: restore the key ring or pair again"));
            Assert.True(await db.EngineAuthEntries.AnyAsync(e => db.Instances.Any(i => i.Id == e.InstanceId && i.Code == id)), "the credentials are kept for a restored key ring");
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_reply_that_mentions_users_is_stored_with_its_quoted_id_and_mentions(string provider)
    {
        await using var app = await AppAsync(provider);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, id) = await app.PairedInstanceAsync(receiver);
        var raw = new JsonObject
        {
            ["key"] = new JsonObject { ["remoteJid"] = Phone + "@s.whatsapp.net", ["fromMe"] = false, ["id"] = "3EB0MENTIONS00000001" },
            ["messageTimestamp"] = 1767791651,
            ["message"] = new JsonObject
            {
                ["extendedTextMessage"] = new JsonObject
                {
                    ["text"] = "@255755000002 @" + Lid + " tazama",
                    ["contextInfo"] = new JsonObject
                    {
                        ["stanzaId"] = "3EB0QUOTED0000000009",
                        ["quotedMessage"] = new JsonObject { ["conversation"] = "Bei gani?" },
                        ["mentionedJid"] = new JsonArray("255755000002@s.whatsapp.net", Lid + "@lid"),
                    },
                },
            },
        };
        await app.ScriptAsync(id, new { @do = "message", raw });

        await WaitUntilAsync(async () => (await RowsAsync(app, "3EB0MENTIONS00000001")).Count == 1);
        var row = (await RowsAsync(app, "3EB0MENTIONS00000001")).Single();
        Assert.Equal(("3EB0QUOTED0000000009", "255755000002," + Lid + "@lid"), (row.QuotedId, row.Mentions));
    }
}
