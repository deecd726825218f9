using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Contacts;

/// <summary>The outbox's number checks go through the shared <c>NumberCheckCache</c>: cached answers, forgotten on a refused send.</summary>
public sealed class SendPathNumberCheckTests
{
    private const string Customer = "255712345678";

    private static async Task<string> SendAsync(HttpClient client, string instanceId, string text) =>
        (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = instanceId, to_number = Customer, message = text }))
            .EnsureOk().Message!["id"]!.GetValue<string>();

    private static async Task<List<string?>> AskedAsync(WapBridgeApp app, string instanceId) =>
        (await app.Engine().RequestAsync(instanceId, "number_checks", new JsonObject())).GetProperty("phones").EnumerateArray().Select(p => p.GetString()).ToList();

    [Fact]
    public async Task A_refused_send_forgets_the_cached_answer_so_the_next_send_asks_WhatsApp_again()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "registered", numbers = new Dictionary<string, string> { [Customer] = Customer + "@s.whatsapp.net" } });

        var first = await SendAsync(client, id, "Habari");
        await client.WaitForMessageAsync(first, r => r["status"]!.GetValue<string>() is "sent" or "delivered");
        var second = await SendAsync(client, id, "Tena");
        await client.WaitForMessageAsync(second, r => r["status"]!.GetValue<string>() is "sent" or "delivered");
        Assert.Equal([Customer], await AskedAsync(app, id)); // the answer was cached

        await app.ScriptAsync(id, new { @do = "fail_sends", error = new { statusCode = 400, message = "bad request" } });
        var refused = await SendAsync(client, id, "Kwa nini?");
        await client.WaitForMessageAsync(refused, r => r["status"]!.GetValue<string>() == "failed");
        await using (var scope = app.Services.CreateAsyncScope())
            Assert.False(await scope.ServiceProvider.GetRequiredService<WapBridgeDbContext>().NumberChecks.AnyAsync(c => c.Number == Customer));

        var after = await SendAsync(client, id, "Sasa");
        await client.WaitForMessageAsync(after, r => r["status"]!.GetValue<string>() is "sent" or "delivered");
        Assert.Equal([Customer, Customer], await AskedAsync(app, id));
    }

    [Fact]
    public async Task A_number_checked_through_the_api_is_not_asked_again_by_the_first_send_to_it()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "registered", numbers = new Dictionary<string, string> { [Customer] = "120542636048510@lid" } });

        var answers = (await client.CallAsync("wap_bridge.api.contacts.check_numbers", new { instance_id = id, numbers = new[] { Customer, "255799999999" } }))
            .EnsureOk().Message!.AsArray();
        Assert.Equal([true, false], answers.Select(a => a!["on_whatsapp"]!.GetValue<bool>()));
        Assert.Equal("120542636048510@lid", answers[0]!["jid"]!.GetValue<string>());
        Assert.Equal([Customer, "255799999999"], await AskedAsync(app, id));

        var sent = await SendAsync(client, id, "Habari");
        await client.WaitForMessageAsync(sent, r => r["status"]!.GetValue<string>() is "sent" or "delivered");
        var nobody = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = id, to_number = "255799999999", message = "Uko?" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        var failed = await client.WaitForMessageAsync(nobody, r => r["status"]!.GetValue<string>() == "failed");
        Assert.Equal("not_on_whatsapp", failed["error_code"]!.GetValue<string>());
        Assert.Equal([Customer, "255799999999"], await AskedAsync(app, id)); // the sends used the API's answers
        var to = (await app.Engine().RequestAsync(id, "sent", new JsonObject())).GetProperty("sent").EnumerateArray().Single().GetProperty("to").GetString();
        Assert.Equal("120542636048510@lid", to);
    }
}
