using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// A bridge older than issue #19 (the fake bridge knows none of its requests and answers <c>unknown_method</c>): number
/// checks fall back to one <c>check_number</c> per number, profiles and groups are features the instance lacks.
/// </summary>
public sealed class BaileysOlderBridgeTests
{
    private const string Customer = "255712345678";
    private const string Nobody = "255799999999";

    [Fact]
    public async Task Numbers_are_checked_one_by_one_and_profiles_and_groups_are_unavailable()
    {
        FakeBridge.SkipWithoutNode();
        await using var app = FakeBridge.App();
        await app.InitializeAsync();
        var (_, id) = await app.PairedInstanceAsync();
        await app.ScriptAsync(id, new { @do = "registered", numbers = new Dictionary<string, string> { [Customer] = "120542636048510@lid" } });
        var grain = app.Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(id);

        var answers = await grain.CheckNumbersAsync([Customer, Nobody]);

        Assert.Equal([new NumberCheckResult(true, "120542636048510@lid"), new NumberCheckResult(false, null)], answers);
        var asked = (await app.Engine().RequestAsync(id, "number_checks", new JsonObject())).GetProperty("phones").EnumerateArray().Select(p => p.GetString());
        Assert.Equal([Customer, Nobody], asked);

        var profile = await Assert.ThrowsAsync<WapBridgeException>(() => grain.GetProfileAsync(Customer));
        Assert.Equal((ErrorKind.EngineFeatureUnavailable, "engine_feature_unavailable"), (profile.Kind, profile.Code));
        Assert.Contains(EngineFeatures.Profiles, profile.Message);
        var groups = await Assert.ThrowsAsync<WapBridgeException>(() => grain.ListGroupsAsync());
        Assert.Contains(EngineFeatures.Groups, groups.Message);
    }
}
