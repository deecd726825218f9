using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Health;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>The new-contact budget against the Baileys engine's real 463 path (the fake bridge plays WhatsApp).</summary>
public sealed class RestrictedFirstMessageTests
{
    [Fact]
    public async Task A_first_message_refused_with_463_gives_its_slot_back_and_the_next_one_to_that_number_is_held_when_sent()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(FastMessaging.Settings(new Dictionary<string, string?> { ["WapBridge:Health:WarmUp:0"] = "3" }));
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        var until = DateTimeOffset.UtcNow.AddHours(2);
        await app.ScriptAsync(id, new
        {
            @do = "fail_sends",
            error = new
            {
                statusCode = 463,
                message = "WhatsApp restricted this account from messaging new contacts (463)",
                restriction = new { active = true, until = until.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) },
            },
        });
        const string Stranger = "255757500001";
        var refused = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = id, to_number = Stranger, message = "Karibu" }))
            .EnsureOk().Message!;
        Assert.Equal(("queued", SendFailurePolicy.AccountRestricted), (refused["status"]!.GetValue<string>(), refused["reason"]?.GetValue<string>()));
        await client.WaitForStatusAsync(id, s => s["restriction"] is JsonObject);
        var record = await client.WaitForMessageAsync(refused["id"]!.GetValue<string>(), r => r["hold_reason"] is not null);
        Assert.Equal(("queued", SendFailurePolicy.AccountRestricted), (record["status"]!.GetValue<string>(), record["hold_reason"]!.GetValue<string>()));

        // WhatsApp took no message, so no conversation began: the stranger stays one and today's budget is whole.
        int instanceId;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
            instanceId = await db.Instances.Where(i => i.Code == id).Select(i => i.Id).SingleAsync();
        var budget = app.Services.GetRequiredService<NewContactBudget>();
        Assert.False(await budget.IsKnownAsync(instanceId, Stranger));
        Assert.Equal((3, 0), ((await budget.StatusAsync(instanceId)).Allowance, (await budget.StatusAsync(instanceId)).UsedToday));

        // So the next message to that number is held at once, and says so, instead of being refused again.
        var next = (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = id, to_number = Stranger, message = "Uko?" })).EnsureOk().Message!;
        Assert.Equal(("queued", SendFailurePolicy.AccountRestricted), (next["status"]!.GetValue<string>(), next["reason"]!.GetValue<string>()));
        Assert.Equal(until.ToUnixTimeMilliseconds(), next["next_send_at"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
    }
}
