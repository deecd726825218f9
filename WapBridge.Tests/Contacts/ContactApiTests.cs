using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Contacts;

/// <summary>
/// Contract §9 "Contacts" over HTTP on the simulator: number checks (per entry, cached per instance), profiles and the
/// LID ↔ phone map, each scoped to the caller's instances.
/// </summary>
public abstract class ContactApiTests(WapBridgeApp app)
{
    private const string Method = "wap_bridge.api.contacts.";
    private const string Contact = "255755123456";
    private const string NotOnWhatsApp = "255755129999";

    private static async Task<JsonNode> CallOkAsync(SendingCustomer owner, string method, object args) =>
        (await owner.Client.CallAsync(Method + method, args)).EnsureOk().Message!;

    private async Task<T> InDbAsync<T>(Func<WapBridgeDbContext, Task<T>> query)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    private Task<int> InstanceIdAsync(string code) => InDbAsync(db => db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync());

    [Fact]
    public async Task Check_numbers_answers_every_entry_in_order_and_a_bad_entry_fails_only_itself()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync(defaultCountry: "TZ");

        var answers = (await CallOkAsync(owner, "check_numbers", new
        {
            instance_id = owner.InstanceId,
            numbers = new[] { "+255 755 123 456", "0755 129999", "not a number", "0755", "", owner.Phone },
        })).AsArray();

        Assert.Equal(6, answers.Count);
        var first = answers[0]!;
        Assert.Equal((Contact, true, true, Contact + "@s.whatsapp.net"),
            (first["number"]!.GetValue<string>(), first["valid"]!.GetValue<bool>(), first["on_whatsapp"]!.GetValue<bool>(), first["jid"]!.GetValue<string>()));
        Assert.Matches("^[0-9]{15}@lid$", first["lid"]!.GetValue<string>());
        Assert.Null(first["error"]);
        Assert.Equal((NotOnWhatsApp, true, false), (answers[1]!["number"]!.GetValue<string>(), answers[1]!["valid"]!.GetValue<bool>(), answers[1]!["on_whatsapp"]!.GetValue<bool>()));
        Assert.Null(answers[1]!["jid"]);
        foreach (var (index, input, why) in new[] { (2, "not a number", "contains letters"), (3, "0755", "too short"), (4, "", "empty") })
        {
            var bad = answers[index]!;
            Assert.Equal((input, false), (bad["number"]!.GetValue<string>(), bad["valid"]!.GetValue<bool>()));
            Assert.Null(bad["on_whatsapp"]);
            Assert.Contains(why, bad["error"]!.GetValue<string>());
        }
        Assert.True(answers[5]!["on_whatsapp"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Check_numbers_refuses_more_than_500_numbers_and_none_naming_numbers()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var tooMany = await owner.Client.CallAsync(Method + "check_numbers",
            new { instance_id = owner.InstanceId, numbers = Enumerable.Range(0, 501).Select(i => "2557551" + i.ToString("D5")).ToArray() });
        Assert.Equal((417, "ValidationError", "numbers"), (tooMany.Status, tooMany.ExcType, tooMany.ErrorField));
        Assert.Contains("500", tooMany.Body!["error"]!["message"]!.GetValue<string>());
        var none = await owner.Client.CallAsync(Method + "check_numbers", new { instance_id = owner.InstanceId, numbers = Array.Empty<string>() });
        Assert.Equal((417, "numbers"), (none.Status, none.ErrorField));

        var most = (await CallOkAsync(owner, "check_numbers",
            new { instance_id = owner.InstanceId, numbers = Enumerable.Range(0, 500).Select(i => "2557551" + i.ToString("D5")).ToArray() })).AsArray();
        Assert.Equal(500, most.Count);
    }

    [Fact]
    public async Task A_checked_number_is_answered_from_the_instance_cache_for_24_hours_then_asked_again()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var instanceId = await InstanceIdAsync(owner.InstanceId);
        Assert.True((await CallOkAsync(owner, "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } }))[0]!["on_whatsapp"]!.GetValue<bool>());
        var row = await InDbAsync(db => db.NumberChecks.AsNoTracking().SingleAsync(c => c.InstanceId == instanceId && c.Number == Contact));
        Assert.True(row.OnWhatsApp);

        // The cached answer is what the API gives: WhatsApp is not asked again within a day (here the cache is made to disagree).
        await InDbAsync(db => db.NumberChecks.Where(c => c.Id == row.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.OnWhatsApp, false)));
        Assert.False((await CallOkAsync(owner, "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } }))[0]!["on_whatsapp"]!.GetValue<bool>());

        var stale = row.CheckedAt.AddHours(-25);
        await InDbAsync(db => db.NumberChecks.Where(c => c.Id == row.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.CheckedAt, stale)));
        Assert.True((await CallOkAsync(owner, "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } }))[0]!["on_whatsapp"]!.GetValue<bool>());
        Assert.True(await InDbAsync(db => db.NumberChecks.AnyAsync(c => c.InstanceId == instanceId && c.Number == Contact && c.OnWhatsApp && c.CheckedAt > stale)));

        // Another instance has its own cache.
        var other = await app.ConnectInstanceAsync(owner.Customer);
        Assert.True((await CallOkAsync(other, "check_numbers", new { instance_id = other.InstanceId, numbers = new[] { Contact } }))[0]!["on_whatsapp"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_lid_learned_by_checking_resolves_to_its_number_and_fires_contact_lid()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        (await owner.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "contact.lid" } })).EnsureOk();

        var unknown = await CallOkAsync(owner, "resolve_lid", new { instance_id = owner.InstanceId, lid = "120542636048510@lid" });
        Assert.Equal("120542636048510@lid", unknown["lid"]!.GetValue<string>());
        Assert.Null(unknown["number"]);

        var lid = (await CallOkAsync(owner, "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } }))[0]!["lid"]!.GetValue<string>();
        var resolved = await CallOkAsync(owner, "resolve_lid", new { instance_id = owner.InstanceId, lid });
        Assert.Equal((lid, Contact), (resolved["lid"]!.GetValue<string>(), resolved["number"]!.GetValue<string>()));
        var digits = lid.Split('@')[0];
        Assert.Equal(Contact, (await CallOkAsync(owner, "resolve_lid", new { instance_id = owner.InstanceId, lid = digits }))["number"]!.GetValue<string>());

        var hook = await receiver.WaitForAsync(r => r.Count >= 1);
        var data = JsonNode.Parse(hook[0].Body)!["data"]!;
        Assert.Equal((lid, Contact), (data["lid"]!.GetValue<string>(), data["number"]!.GetValue<string>()));

        var bad = await owner.Client.CallAsync(Method + "resolve_lid", new { instance_id = owner.InstanceId, lid = "255755123456@c.us" });
        Assert.Equal((417, "lid"), (bad.Status, bad.ErrorField));
    }

    [Fact]
    public async Task Get_profile_answers_by_number_or_lid_with_the_lid_from_the_map()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var profile = await CallOkAsync(owner, "get_profile", new { instance_id = owner.InstanceId, number = "0755 123 456" });
        Assert.Equal(Contact, profile["number"]!.GetValue<string>());
        var lid = profile["lid"]!.GetValue<string>();
        Assert.Matches("^[0-9]{15}@lid$", lid);
        Assert.False(string.IsNullOrEmpty(profile["push_name"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(profile["about"]!.GetValue<string>()));

        var byLid = await CallOkAsync(owner, "get_profile", new { instance_id = owner.InstanceId, number = lid });
        Assert.Equal((Contact, lid, profile["push_name"]!.GetValue<string>()), (byLid["number"]!.GetValue<string>(), byLid["lid"]!.GetValue<string>(), byLid["push_name"]!.GetValue<string>()));

        var bad = await owner.Client.CallAsync(Method + "get_profile", new { instance_id = owner.InstanceId, number = "12" });
        Assert.Equal((417, "number"), (bad.Status, bad.ErrorField));
    }

    [Fact]
    public async Task Profiles_and_checked_numbers_are_answered_from_cache_without_asking_WhatsApp_again()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var profile = await CallOkAsync(owner, "get_profile", new { instance_id = owner.InstanceId, number = Contact });
        await CallOkAsync(owner, "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } });

        // Unlinked, the instance cannot ask WhatsApp anything: what it answers now comes from what it kept.
        (await owner.Client.CallAsync("wap_bridge.api.instances.logout_instance", new { instance_id = owner.InstanceId })).EnsureOk();
        var again = await CallOkAsync(owner, "get_profile", new { instance_id = owner.InstanceId, number = Contact });
        Assert.Equal(profile.ToJsonString(), again.ToJsonString());
        Assert.True((await CallOkAsync(owner, "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } }))[0]!["on_whatsapp"]!.GetValue<bool>());

        var uncached = await owner.Client.CallAsync(Method + "check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact, "255755100002" } });
        Assert.Equal((409, "InstanceNotConnectedError"), (uncached.Status, uncached.ExcType));
        var otherProfile = await owner.Client.CallAsync(Method + "get_profile", new { instance_id = owner.InstanceId, number = "255755100002" });
        Assert.Equal(409, otherProfile.Status);
    }

    [Fact]
    public async Task Another_customers_instance_is_404_on_every_contacts_method()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var stranger = await app.CreateConnectedAsync();
        foreach (var (method, args) in new (string, object)[]
                 {
                     ("check_numbers", new { instance_id = owner.InstanceId, numbers = new[] { Contact } }),
                     ("get_profile", new { instance_id = owner.InstanceId, number = Contact }),
                     ("resolve_lid", new { instance_id = owner.InstanceId, lid = "120542636048510@lid" }),
                 })
        {
            var answer = await stranger.Client.CallAsync(Method + method, args);
            Assert.Equal((404, "DoesNotExistError", "instance_id"), (answer.Status, answer.ExcType, answer.ErrorField));
        }
        var ownerId = await InstanceIdAsync(owner.InstanceId);
        Assert.False(await InDbAsync(db => db.NumberChecks.AnyAsync(c => c.InstanceId == ownerId)));
    }
}

public sealed class SqliteContactApiTests(SqliteWebhookApp app) : ContactApiTests(app), IClassFixture<SqliteWebhookApp>;

public sealed class PostgresContactApiTests(PostgresWebhookApp app) : ContactApiTests(app), IClassFixture<PostgresWebhookApp>;
