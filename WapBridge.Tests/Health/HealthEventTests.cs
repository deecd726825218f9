using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.Engines.Baileys;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>
/// What WhatsApp does to a number, played by the fake bridge, is judged at once (the monitor is poked by the event),
/// not at the next interval: the stored level turns <c>restricted</c> and <c>instance_status</c> says why.
/// </summary>
public sealed class HealthEventTests
{
    // An hour: only the poke of the engine's event can judge the instance within the test.
    private static readonly Dictionary<string, string?> HourlyJudging = new() { ["WapBridge:Health:EvaluateInterval"] = "01:00:00" };

    private static async Task<(string? Level, int? Score)> StoredAsync(WapBridgeApp app, string code, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
            var stored = await db.Instances.Where(i => i.Code == code).Select(i => new { i.HealthLevel, i.HealthScore }).SingleAsync();
            if (stored.HealthLevel == expected || DateTime.UtcNow > deadline)
                return (stored.HealthLevel, stored.HealthScore);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_463_restriction_is_judged_restricted_at_once_with_its_end()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(HourlyJudging);
        await app.InitializeAsync();
        var (client, id) = await app.PairedInstanceAsync();
        // Connecting poked the monitor: the first judgement is stored too.
        Assert.Equal(("good", 100), await StoredAsync(app, id, "good"));

        var until = DateTimeOffset.UtcNow.AddHours(5);
        await app.ScriptAsync(id, new
        {
            @do = "fail_sends",
            error = new
            {
                statusCode = 463, message = "WhatsApp restricted this account from messaging new contacts (463)",
                restriction = new { active = true, until = until.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) },
            },
        });
        (await client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = id, to_number = "255757400001", message = "New contact" })).EnsureOk();

        Assert.Equal(("restricted", 50), await StoredAsync(app, id, "restricted"));
        var health = (await client.StatusAsync(id))["health"]!;
        Assert.Equal("restricted", health["level"]!.GetValue<string>());
        Assert.Equal(until.ToUnixTimeSeconds(), health["restricted_until"]!.GetValue<DateTimeOffset>().ToUnixTimeSeconds());
        Assert.Equal(["restricted"], health["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_temporary_ban_is_judged_restricted_at_once_and_a_403_logout_too()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App(HourlyJudging);
        await app.InitializeAsync();
        var (client, banned) = await app.PairedInstanceAsync();
        await app.ScriptAsync(banned, new { @do = "close", statusCode = 402, name = "unknown", error = "Connection Failure", data = new { reason = "402", expire = "3600" } });

        Assert.Equal(("restricted", 20), await StoredAsync(app, banned, "restricted"));
        var health = (await client.StatusAsync(banned))["health"]!;
        Assert.Equal("banned", health["reasons"]![0]!["code"]!.GetValue<string>());
        Assert.Equal((await client.StatusAsync(banned))["banned_until"]!.GetValue<DateTimeOffset>(), health["restricted_until"]!.GetValue<DateTimeOffset>());

        var (locked, lockedId) = await app.PairedInstanceAsync(phone: "255757000002");
        await app.ScriptAsync(lockedId, new { @do = "close", statusCode = 403, name = "forbidden", error = "Connection Failure" });
        Assert.Equal(("restricted", 0), await StoredAsync(app, lockedId, "restricted"));
        var lockedHealth = (await locked.StatusAsync(lockedId))["health"]!;
        Assert.Equal("logged_out", (await locked.StatusAsync(lockedId))["status"]!.GetValue<string>());
        Assert.Equal(["account_locked"], lockedHealth["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()));
        Assert.False(lockedHealth.AsObject().ContainsKey("restricted_until"));
    }
}
