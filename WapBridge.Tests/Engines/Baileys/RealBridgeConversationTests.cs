using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using FakeWhatsApp = WapBridge.Tests.Engines.Baileys.RealBridgeSendTests.FakeWhatsApp;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// The conversation API on a Baileys instance end to end (issue #18): each call goes through the outbox, the real
/// bridge and the real Baileys, and the fake WhatsApp server's contact decrypts what a phone would show; a contact's
/// calls and presence come back as engine events. All on loopback.
/// </summary>
public sealed class RealBridgeConversationTests
{
    private const string Contact = "255712345678";
    private const string Mentioned = "255755000002";

    private static async Task<string> WaIdAsync(WapBridgeApp app, string serializedId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().Messages.Where(m => m.SerializedId == serializedId).Select(m => m.WaMessageId).SingleAsync();
    }

    /// <summary>Calls a sending method, waits until WhatsApp took it, and answers what the contact decrypted.</summary>
    private static async Task<(string Id, string WaId, JsonNode Decrypted)> SendAsync(WapBridgeApp app, HttpClient client, FakeWhatsApp wa, string method, object args)
    {
        var id = (await client.CallAsync("wap_bridge.api.whatsapp." + method, args)).EnsureOk().Message!["id"]!.GetValue<string>();
        await client.WaitForMessageAsync(id, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read", 30);
        var waId = await WaIdAsync(app, id);
        var decrypted = await wa.CommandAsync(new { @do = "decrypted", id = waId });
        Assert.True(decrypted["decryptError"] is null, $"{method} decrypts: {decrypted["decryptError"]}");
        return (id, waId, decrypted["message"]!);
    }

    [Fact]
    public async Task Every_conversation_send_reaches_the_contact_as_the_proto_WhatsApp_shows()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact, Mentioned);
        await using var app = new WapBridgeApp(settings: FastMessaging.Settings(RealBridgeSendTests.Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        var (client, instance) = await RealBridgeSendTests.LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;

        var (original, originalWa, _) = await SendAsync(app, client, wa, "send_api_message", new { instance_id = instance, to_number = Contact, message = "Bei ni 5000" });

        // A reply quoting our own message (its content from the sent-message store) that mentions a number.
        var (_, _, reply) = await SendAsync(app, client, wa, "send_api_message",
            new { instance_id = instance, to_number = Contact, message = $"Sawa @{Mentioned}", quoted_id = original, mentions = new[] { Mentioned } });
        var context = reply["extendedTextMessage"]!["contextInfo"]!;
        Assert.Equal(originalWa, context["stanzaId"]!.GetValue<string>());
        Assert.Contains("Bei ni 5000", context["quotedMessage"]!.ToJsonString());
        Assert.Equal([Mentioned + "@s.whatsapp.net"], context["mentionedJid"]!.AsArray().Select(j => j!.GetValue<string>()));

        var (_, _, reaction) = await SendAsync(app, client, wa, "send_reaction", new { id = original, emoji = "👍" });
        Assert.Equal((originalWa, "👍"), (reaction["reactionMessage"]!["key"]!["id"]!.GetValue<string>(), reaction["reactionMessage"]!["text"]!.GetValue<string>()));

        var (_, _, location) = await SendAsync(app, client, wa, "send_location",
            new { instance_id = instance, to_number = Contact, latitude = -6.7924, longitude = 39.2083, name = "Kariakoo" });
        var place = location["locationMessage"]!;
        Assert.Equal((-6.7924, 39.2083, "Kariakoo"), (place["degreesLatitude"]!.GetValue<double>(), place["degreesLongitude"]!.GetValue<double>(), place["name"]!.GetValue<string>()));

        var (_, _, card) = await SendAsync(app, client, wa, "send_contact",
            new { instance_id = instance, to_number = Contact, contacts = new[] { new { name = "Neema", number = Mentioned } } });
        Assert.Equal("Neema", card["contactMessage"]!["displayName"]!.GetValue<string>());
        Assert.Contains($"waid={Mentioned}:+{Mentioned}", card["contactMessage"]!["vcard"]!.GetValue<string>());

        // One answer is WhatsApp's single-choice poll (V3, selectableOptionsCount 1); multiple answers its plain poll (0).
        var (_, _, single) = await SendAsync(app, client, wa, "send_poll",
            new { instance_id = instance, to_number = Contact, question = "Siku gani?", options = new[] { "Jumatatu", "Jumanne" } });
        Assert.Equal(1, single["pollCreationMessageV3"]!["selectableOptionsCount"]!.GetValue<int>());
        Assert.Equal(["Jumatatu", "Jumanne"], single["pollCreationMessageV3"]!["options"]!.AsArray().Select(o => o!["optionName"]!.GetValue<string>()));
        var (_, _, multiple) = await SendAsync(app, client, wa, "send_poll",
            new { instance_id = instance, to_number = Contact, question = "Rangi?", options = new[] { "Nyekundu", "Bluu" }, multiple_answers = true });
        Assert.Equal("Rangi?", multiple["pollCreationMessage"]!["name"]!.GetValue<string>());
        Assert.Equal(0, multiple["pollCreationMessage"]!["selectableOptionsCount"]?.GetValue<int>() ?? 0);

        var (_, _, edit) = await SendAsync(app, client, wa, "edit_message", new { id = original, message = "Bei ni 4500" });
        Assert.Equal((14, originalWa), (edit["protocolMessage"]!["type"]!.GetValue<int>(), edit["protocolMessage"]!["key"]!["id"]!.GetValue<string>()));
        Assert.Contains("Bei ni 4500", edit["protocolMessage"]!["editedMessage"]!.ToJsonString());

        var (_, _, revoke) = await SendAsync(app, client, wa, "delete_message", new { id = original, for_everyone = true });
        Assert.Equal(originalWa, revoke["protocolMessage"]!["key"]!["id"]!.GetValue<string>());
        Assert.Equal(0, revoke["protocolMessage"]!["type"]?.GetValue<int>() ?? 0);

        // mark_read sends WhatsApp a read receipt for the contact's message.
        var inboundWa = (await wa.CommandAsync(new { @do = "send", from = Contact, message = new { conversation = "Habari?" } }))["id"]!.GetValue<string>();
        string inbound = "";
        await EventuallyAsync(async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            inbound = await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().Messages.Where(m => m.WaMessageId == inboundWa).Select(m => m.SerializedId).SingleOrDefaultAsync() ?? "";
            return inbound.Length > 0;
        });
        (await client.CallAsync("wap_bridge.api.whatsapp.mark_read", new { id = inbound })).EnsureOk();
        var receipt = await wa.CommandAsync(new { @do = "node", tag = "receipt", types = new[] { "read", "read-self" } });
        Assert.Equal(inboundWa, receipt["attrs"]!["id"]!.GetValue<string>());

        // A reply to the contact's message: the host sends its stored text as the quoted content.
        var (_, _, answer) = await SendAsync(app, client, wa, "send_api_message", new { instance_id = instance, to_number = Contact, message = "Salama", quoted_id = inbound });
        var quotedInbound = answer["extendedTextMessage"]!["contextInfo"]!;
        Assert.Equal((inboundWa, "Habari?", Contact + "@s.whatsapp.net"),
            (quotedInbound["stanzaId"]!.GetValue<string>(), quotedInbound["quotedMessage"]!["conversation"]!.GetValue<string>(), quotedInbound["participant"]!.GetValue<string>()));

        // send_presence shows typing and subscribes to the contact's own presence.
        (await client.CallAsync("wap_bridge.api.whatsapp.send_presence", new { instance_id = instance, to_number = Contact, state = "composing" })).EnsureOk();
        var typing = await wa.CommandAsync(new { @do = "node", tag = "chatstate" });
        Assert.Equal("composing", typing["children"]![0]!["tag"]!.GetValue<string>());
        Assert.StartsWith(Contact, typing["attrs"]!["to"]!.GetValue<string>());
        var subscribe = await wa.CommandAsync(new { @do = "node", tag = "presence", types = new[] { "subscribe" } });
        Assert.StartsWith(Contact, subscribe["attrs"]!["to"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_contacts_call_and_presence_become_engine_events_with_their_phone()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact);
        await using var app = new EventRecordingApp(FastMessaging.Settings(RealBridgeSendTests.Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        var (client, _) = await RealBridgeSendTests.LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;

        var callId = (await wa.CommandAsync(new { @do = "call", from = Contact, status = "offer", video = true }))["callId"]!.GetValue<string>();
        await wa.CommandAsync(new { @do = "call", from = Contact, status = "timeout", callId });
        await EventuallyAsync(() => Task.FromResult(app.Events.OfType<CallEvent>().Count(c => c.CallId == callId) == 2));
        var calls = app.Events.OfType<CallEvent>().Where(c => c.CallId == callId).ToList();
        Assert.Equal(["offer", "timeout"], calls.Select(c => c.Status));
        Assert.All(calls, c => Assert.Equal((Contact, true, false), (c.FromPhone, c.IsVideo, c.IsGroup)));

        await wa.CommandAsync(new { @do = "presence", from = Contact, type = "unavailable", last = 1764280000 });
        await wa.CommandAsync(new { @do = "chatstate", from = Contact, state = "composing" });
        await EventuallyAsync(() => Task.FromResult(app.Events.OfType<PresenceEvent>().Any(p => p.State == "composing")));
        var presences = app.Events.OfType<PresenceEvent>().ToList();
        var away = presences.Single(p => p.State == "unavailable");
        Assert.Equal((Contact, Contact, DateTimeOffset.FromUnixTimeSeconds(1764280000)), (away.Chat, away.FromPhone, away.LastSeen));
        Assert.Equal((Contact, Contact), (presences.Last().Chat, presences.Last().FromPhone));
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
                Assert.Fail("the condition did not hold within " + seconds + " s");
            await Task.Delay(100);
        }
    }
}
