using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Groups;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;
using WapBridge.Tests.Webhooks;

namespace WapBridge.Tests.Groups;

/// <summary>Simulator numbers ending in 7777 refuse group adds by their privacy settings (WhatsApp sends an invite instead).</summary>
public static class GroupTestSettings
{
    public static Dictionary<string, string?> Settings() =>
        FastWebhooks.Settings(new Dictionary<string, string?> { ["WapBridge:Engines:Simulator:InviteOnlyPattern"] = "^\\d*7777$" });
}

public sealed class SqliteGroupsApp() : WapBridgeApp("sqlite", GroupTestSettings.Settings());

public sealed class PostgresGroupsApp() : WapBridgeApp("postgres", GroupTestSettings.Settings());

/// <summary>
/// Contract §9 "Groups" over HTTP on the simulator: two instances of one customer share the simulated world, so what one
/// does to a group the other hears of (events, cache, webhooks); another customer sees none of it.
/// </summary>
public abstract class GroupApiTests(WapBridgeApp app)
{
    private const string Method = "wap_bridge.api.groups.";
    private const string Contact = "255755123456";
    private const string NotOnWhatsApp = "255755129999";
    private const string InviteOnly = "255755127777";

    private static async Task<JsonNode> OkAsync(SendingCustomer who, string method, object args) =>
        (await who.Client.CallAsync(Method + method, args)).EnsureOk().Message!;

    private static async Task<(JsonNode Group, string Id)> CreateAsync(SendingCustomer owner, string subject, params string[] participants)
    {
        var group = await OkAsync(owner, "create_group", new { instance_id = owner.InstanceId, subject, participants });
        return (group, group["group_id"]!.GetValue<string>());
    }

    private static List<string?> Numbers(JsonNode group) => group["participants"]!.AsArray().Select(p => p!["number"]?.GetValue<string>()).ToList();

    private async Task<IReadOnlyList<GroupInfo>> CachedAsync(SendingCustomer who)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var customerId = await db.Customers.Where(c => c.Code == who.Customer.Code).Select(c => c.Id).SingleAsync();
        return await app.Services.GetRequiredService<GroupDirectory>().CachedGroupsAsync(customerId, who.InstanceId);
    }

    private async Task<GroupInfo?> EventuallyCachedAsync(SendingCustomer who, string groupId, Func<GroupInfo?, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var found = (await CachedAsync(who)).SingleOrDefault(g => g.GroupId == groupId);
            if (done(found))
                return found;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"the cache of {who.InstanceId} never reached the expected state for {groupId}; last: {found}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Create_get_and_list_answer_the_group_with_our_role_and_members_phone_and_lid()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var member = await app.ConnectInstanceAsync(owner.Customer);

        var (group, id) = await CreateAsync(owner, "  Duka team ", member.Phone, "+" + Contact);
        Assert.Matches("^[0-9]+@g\\.us$", id);
        Assert.Equal(("Duka team", owner.Phone, "superadmin", 3, owner.InstanceId),
            (group["subject"]!.GetValue<string>(), group["owner"]!.GetValue<string>(), group["our_role"]!.GetValue<string>(), group["size"]!.GetValue<int>(),
                group["instance_id"]!.GetValue<string>()));
        Assert.Equal([owner.Phone, member.Phone, Contact], Numbers(group));
        Assert.All(group["participants"]!.AsArray(), p => Assert.Matches("^[0-9]{15}@lid$", p!["lid"]!.GetValue<string>()));
        Assert.Equal("superadmin", group["participants"]![0]!["admin"]!.GetValue<string>());
        Assert.False(group["announce"]!.GetValue<bool>() || group["restrict"]!.GetValue<bool>());

        var got = await OkAsync(member, "get_group", new { instance_id = member.InstanceId, group_id = id.ToUpperInvariant() });
        Assert.Equal((id, "Duka team"), (got["group_id"]!.GetValue<string>(), got["subject"]!.GetValue<string>()));
        Assert.Null(got["our_role"]);

        var listed = await OkAsync(owner, "list_groups", new { instance_id = owner.InstanceId });
        Assert.Equal(1, listed["total"]!.GetValue<int>());
        Assert.Equal(id, listed["data"]![0]!["group_id"]!.GetValue<string>());
        var viaGet = await owner.Client.SendRawAsync(HttpMethod.Get, $"/api/method/{Method}list_groups?instance_id={owner.InstanceId}&limit=1");
        Assert.Equal(200, viaGet.Status);

        var cached = Assert.Single(await CachedAsync(owner));
        Assert.Equal((id, "Duka team", 3, "superadmin"), (cached.GroupId, cached.Subject, cached.Size, cached.OurRole));
    }

    [Fact]
    public async Task Update_participants_answers_each_participant_and_bad_entries_are_417_naming_the_entry()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync(defaultCountry: "TZ");
        var (_, id) = await CreateAsync(owner, "Team", Contact);

        var outcomes = (await OkAsync(owner, "update_participants", new
        {
            instance_id = owner.InstanceId,
            group_id = id,
            action = "add",
            participants = new[] { "0755 100 001", InviteOnly, Contact, NotOnWhatsApp },
        })).AsArray();
        Assert.Equal(
            [("255755100001", "added"), (InviteOnly, "invite_sent"), (Contact, "already_member"), (NotOnWhatsApp, "not_on_whatsapp")],
            outcomes.Select(o => (o!["number"]!.GetValue<string>(), o["status"]!.GetValue<string>())));
        Assert.Contains("invite", outcomes[1]!["detail"]!.GetValue<string>());

        var promoted = (await OkAsync(owner, "update_participants",
            new { instance_id = owner.InstanceId, group_id = id, action = "PROMOTE", participants = new[] { Contact } })).AsArray();
        Assert.Equal("promoted", Assert.Single(promoted)!["status"]!.GetValue<string>());
        var lid = (await OkAsync(owner, "get_group", new { instance_id = owner.InstanceId, group_id = id }))["participants"]!.AsArray()
            .Single(p => p!["number"]?.GetValue<string>() == "255755100001")!["lid"]!.GetValue<string>();
        var removed = (await OkAsync(owner, "update_participants",
            new { instance_id = owner.InstanceId, group_id = id, action = "remove", participants = new[] { lid } })).AsArray();
        Assert.Equal((lid, "removed"), (removed[0]!["number"]!.GetValue<string>(), removed[0]!["status"]!.GetValue<string>()));

        var cached = Assert.Single(await CachedAsync(owner));
        Assert.Equal([owner.Phone, Contact], cached.Participants.Select(p => p.Number));
        Assert.Equal("admin", cached.Participants[1].Admin);

        var bad = await owner.Client.CallAsync(Method + "update_participants",
            new { instance_id = owner.InstanceId, group_id = id, action = "add", participants = new[] { Contact, "0755" } });
        Assert.Equal((417, "participants"), (bad.Status, bad.ErrorField));
        Assert.Contains("participants[1]", bad.Body!["error"]!["message"]!.GetValue<string>());
        var verb = await owner.Client.CallAsync(Method + "update_participants",
            new { instance_id = owner.InstanceId, group_id = id, action = "kick", participants = new[] { Contact } });
        Assert.Equal((417, "action"), (verb.Status, verb.ErrorField));
    }

    [Fact]
    public async Task Update_group_invite_links_join_and_leave()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var joiner = await app.ConnectInstanceAsync(owner.Customer);
        var (_, id) = await CreateAsync(owner, "Team", Contact);

        Assert.True((await OkAsync(owner, "update_group", new { instance_id = owner.InstanceId, group_id = id, subject = "Duka", description = "Shop staff", announce = true }))["ok"]!.GetValue<bool>());
        var group = await OkAsync(owner, "get_group", new { instance_id = owner.InstanceId, group_id = id });
        Assert.Equal(("Duka", "Shop staff", true, false),
            (group["subject"]!.GetValue<string>(), group["description"]!.GetValue<string>(), group["announce"]!.GetValue<bool>(), group["restrict"]!.GetValue<bool>()));
        foreach (var (args, field) in new (object, string)[]
                 {
                     (new { instance_id = owner.InstanceId, group_id = id }, "subject"),
                     (new { instance_id = owner.InstanceId, group_id = id, subject = new string('x', 101) }, "subject"),
                     (new { instance_id = owner.InstanceId, group_id = id, subject = "  " }, "subject"),
                 })
        {
            var refused = await owner.Client.CallAsync(Method + "update_group", args);
            Assert.Equal((417, field), (refused.Status, refused.ErrorField));
        }

        var link = (await OkAsync(owner, "get_invite_link", new { instance_id = owner.InstanceId, group_id = id }))["link"]!.GetValue<string>();
        Assert.StartsWith("https://chat.whatsapp.com/", link);
        var fresh = (await OkAsync(owner, "revoke_invite_link", new { instance_id = owner.InstanceId, group_id = id }))["link"]!.GetValue<string>();
        Assert.NotEqual(link, fresh);
        var revoked = await joiner.Client.CallAsync(Method + "join_group", new { instance_id = joiner.InstanceId, link });
        Assert.Equal((404, "link"), (revoked.Status, revoked.ErrorField));
        var junk = await joiner.Client.CallAsync(Method + "join_group", new { instance_id = joiner.InstanceId, link = "https://example.invalid/x" });
        Assert.Equal((417, "link"), (junk.Status, junk.ErrorField));

        var joined = await OkAsync(joiner, "join_group", new { instance_id = joiner.InstanceId, link = fresh.Split('/')[^1] });
        Assert.Equal((id, "Duka"), (joined["group_id"]!.GetValue<string>(), joined["subject"]!.GetValue<string>()));
        Assert.Contains(joiner.Phone, Numbers(joined));
        Assert.Equal(id, Assert.Single(await CachedAsync(joiner)).GroupId);

        Assert.True((await OkAsync(joiner, "leave_group", new { instance_id = joiner.InstanceId, group_id = id }))["ok"]!.GetValue<bool>());
        Assert.Empty(await CachedAsync(joiner));
        var gone = await joiner.Client.CallAsync(Method + "get_group", new { instance_id = joiner.InstanceId, group_id = id });
        Assert.Equal((404, "DoesNotExistError", "group_id"), (gone.Status, gone.ExcType, gone.ErrorField));
        Assert.Equal(0, (await OkAsync(joiner, "list_groups", new { instance_id = joiner.InstanceId }))["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Another_customer_gets_404_for_the_instance_and_for_a_group_its_own_instance_is_not_in()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var stranger = await app.CreateConnectedAsync();
        var (_, id) = await CreateAsync(owner, "Team", Contact);

        foreach (var (method, args) in new (string, object)[]
                 {
                     ("list_groups", new { instance_id = owner.InstanceId }),
                     ("get_group", new { instance_id = owner.InstanceId, group_id = id }),
                     ("create_group", new { instance_id = owner.InstanceId, subject = "Mine", participants = new[] { Contact } }),
                     ("update_participants", new { instance_id = owner.InstanceId, group_id = id, action = "add", participants = new[] { stranger.Phone } }),
                     ("update_group", new { instance_id = owner.InstanceId, group_id = id, subject = "Mine" }),
                     ("get_invite_link", new { instance_id = owner.InstanceId, group_id = id }),
                     ("revoke_invite_link", new { instance_id = owner.InstanceId, group_id = id }),
                     ("join_group", new { instance_id = owner.InstanceId, link = "AbCdEfGhIjKlMnOpQrStUv" }),
                     ("leave_group", new { instance_id = owner.InstanceId, group_id = id }),
                 })
        {
            var answer = await stranger.Client.CallAsync(Method + method, args);
            Assert.True((404, "instance_id") == (answer.Status, answer.ErrorField), $"{method}: {answer.Status} {answer.ErrorField}");
        }
        foreach (var method in new[] { "get_group", "get_invite_link", "leave_group" })
        {
            var answer = await stranger.Client.CallAsync(Method + method, new { instance_id = stranger.InstanceId, group_id = id });
            Assert.True((404, "group_id") == (answer.Status, answer.ErrorField), $"{method}: {answer.Status} {answer.ErrorField}");
        }
        var bad = await owner.Client.CallAsync(Method + "get_group", new { instance_id = owner.InstanceId, group_id = "255755123456@c.us" });
        Assert.Equal((417, "group_id"), (bad.Status, bad.ErrorField));
        Assert.Equal("Team", Assert.Single(await CachedAsync(owner)).Subject);
        Assert.Empty(await CachedAsync(stranger));
    }

    [Fact]
    public async Task Group_events_keep_the_other_member_instance_cache_up_to_date()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var member = await app.ConnectInstanceAsync(owner.Customer);
        var (_, id) = await CreateAsync(owner, "Team", Contact);

        // The member never asked: being added is an event, and the group is read in the background.
        await OkAsync(owner, "update_participants", new { instance_id = owner.InstanceId, group_id = id, action = "add", participants = new[] { member.Phone } });
        var cached = await EventuallyCachedAsync(member, id, g => g is not null);
        Assert.Equal("Team", cached!.Subject);

        await OkAsync(owner, "update_group", new { instance_id = owner.InstanceId, group_id = id, subject = "Renamed", restrict = true });
        await EventuallyCachedAsync(member, id, g => g is { Subject: "Renamed", Restrict: true });
        await OkAsync(owner, "update_participants", new { instance_id = owner.InstanceId, group_id = id, action = "promote", participants = new[] { member.Phone } });
        await EventuallyCachedAsync(member, id, g => g is { OurRole: "admin" });
        await OkAsync(owner, "update_participants", new { instance_id = owner.InstanceId, group_id = id, action = "remove", participants = new[] { Contact } });
        await EventuallyCachedAsync(member, id, g => g is { Size: 2 } && g.Participants.All(p => p.Number != Contact));

        await OkAsync(owner, "update_participants", new { instance_id = owner.InstanceId, group_id = id, action = "remove", participants = new[] { member.Phone } });
        await EventuallyCachedAsync(member, id, g => g is null);
    }

    [Fact]
    public async Task A_send_to_a_group_works_with_an_empty_group_cache()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        var member = await app.ConnectInstanceAsync(owner.Customer);
        var (_, id) = await CreateAsync(owner, "Team", member.Phone);
        // The creation's own group event caches the group a moment later: emptying the cache before it lands leaves it filled.
        await EventuallyCachedAsync(owner, id, g => g is not null);
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync())
            await db.CachedGroups.ExecuteDeleteAsync();
        Assert.Empty(await CachedAsync(owner));

        var sent = (await owner.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new { instance_id = owner.InstanceId, to_number = id, message = "Habari timu" }))
            .EnsureOk().Message!["id"]!.GetValue<string>();
        await owner.Client.WaitForMessageAsync(sent, r => r["status"]!.GetValue<string>() is "sent" or "delivered" or "read");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var inbound = (await member.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = member.InstanceId, direction = "inbound" }))
                .EnsureOk().Message!["data"]!.AsArray();
            if (inbound.Any(m => m!["body"]?.GetValue<string>() == "Habari timu"))
                break;
            Assert.True(DateTime.UtcNow < deadline, "the group message never reached the member instance");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Group_participants_and_update_webhooks_reach_a_subscribed_receiver_only()
    {
        app.SkipIfUnavailable();
        var owner = await app.CreateConnectedAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        (await owner.Client.CallAsync("wap_bridge.api.settings.set_webhook",
            new { url = receiver.Url, events = new[] { "group.participants", "group.update" } })).EnsureOk();
        var settings = (await owner.Client.CallAsync("wap_bridge.api.settings.get_webhook", new { })).EnsureOk().Message!;
        Assert.Equal(["group.participants", "group.update"], settings["events"]!.AsArray().Select(e => e!.GetValue<string>()));

        var (_, id) = await CreateAsync(owner, "Team", Contact);
        await OkAsync(owner, "update_group", new { instance_id = owner.InstanceId, group_id = id, subject = "Duka", announce = true });

        var hooks = (await receiver.WaitForAsync(r => r.Count >= 2)).Select(h => JsonNode.Parse(h.Body)!).ToList();
        var added = hooks.Single(h => h["event"]!.GetValue<string>() == "group.participants");
        Assert.Equal(["event", "instance_id", "customer", "timestamp", "data"], added.AsObject().Select(p => p.Key));
        var data = added["data"]!;
        Assert.Equal((id, "add", owner.Phone + "@c.us", owner.Phone), (data["group"]!.GetValue<string>(), data["action"]!.GetValue<string>(),
            data["by"]!.GetValue<string>(), data["by_phone"]!.GetValue<string>()));
        Assert.Matches("^[0-9]{15}@lid$", data["by_lid"]!.GetValue<string>());
        Assert.Equal([owner.Phone, Contact], data["participants"]!.AsArray().Select(p => p!["number"]!.GetValue<string>()));
        Assert.All(data["participants"]!.AsArray(), p => Assert.Matches("^[0-9]{15}@lid$", p!["lid"]!.GetValue<string>()));

        var update = hooks.Single(h => h["event"]!.GetValue<string>() == "group.update")["data"]!;
        Assert.Equal(id, update["group"]!.GetValue<string>());
        Assert.Equal("{\"subject\":\"Duka\",\"announce\":true}", update["changes"]!.ToJsonString());
        Assert.Equal(owner.Phone, update["by_phone"]!.GetValue<string>());

        // Not subscribed: nothing more arrives, and nothing is stored for delivery.
        (await owner.Client.CallAsync("wap_bridge.api.settings.set_webhook", new { url = receiver.Url, events = new[] { "message" } })).EnsureOk();
        await OkAsync(owner, "update_group", new { instance_id = owner.InstanceId, group_id = id, subject = "Again" });
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Equal(2, receiver.Received.Count);
    }
}

public sealed class SqliteGroupApiTests(SqliteGroupsApp app) : GroupApiTests(app), IClassFixture<SqliteGroupsApp>;

public sealed class PostgresGroupApiTests(PostgresGroupsApp app) : GroupApiTests(app), IClassFixture<PostgresGroupsApp>;
