using Microsoft.Extensions.DependencyInjection;
using Orleans;
using WapBridge.Core.Engines;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;
using FakeWhatsApp = WapBridge.Tests.Engines.Baileys.RealBridgeSendTests.FakeWhatsApp;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// Contacts and groups on a Baileys instance end to end (issue #19): the instance actor's calls go through
/// <c>BaileysSession</c>, the real bridge and the real Baileys to the fake WhatsApp server, and group changes made on a
/// member's phone come back as engine events. All on loopback.
/// </summary>
public sealed class RealBridgeGroupTests
{
    private const string Contact = "255712345678";
    private const string Other = "255755000002";
    private const string Nobody = "255799999999";

    [Fact]
    public async Task Numbers_profiles_and_groups_work_through_the_instance_actor_and_member_changes_come_back_as_events()
    {
        var bridgeDir = RealBridgeTests.RequireBridge();
        await using var wa = await FakeWhatsApp.StartAsync(bridgeDir, Contact, Other);
        await using var app = new EventRecordingApp(FastMessaging.Settings(RealBridgeSendTests.Settings(bridgeDir, wa)));
        await app.InitializeAsync();
        var (client, instance) = await RealBridgeSendTests.LinkAsync(app, await app.CreateCustomerAsync(), wa);
        using var _ = client;
        var grain = app.Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(instance);
        var contactLid = (await wa.CommandAsync(new { @do = "lid", phone = Contact }))["lid"]!.GetValue<string>().Replace("@lid", "");
        var otherLid = (await wa.CommandAsync(new { @do = "lid", phone = Other }))["lid"]!.GetValue<string>().Replace("@lid", "");
        var account = wa.Account.Split('@')[0];

        var checks = await grain.CheckNumbersAsync([Contact, Nobody]);
        Assert.Equal([new NumberCheckResult(true, Contact + "@s.whatsapp.net", contactLid), new NumberCheckResult(false, null)], checks);

        var profile = await grain.GetProfileAsync(Contact);
        Assert.Equal((Contact, contactLid), (profile.Phone, profile.Lid));
        var missing = await Assert.ThrowsAsync<WapBridgeException>(() => grain.GetProfileAsync(Nobody));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);

        var created = await grain.CreateGroupAsync("Wauzaji", [Contact]);
        Assert.Equal(("Wauzaji", account), (created.Subject, created.OwnerPhone));
        Assert.Contains(new EngineGroupParticipant(Contact, contactLid, null), created.Participants);
        Assert.Contains(created.Participants, p => p.Phone == account && p.Admin == GroupRoles.SuperAdmin);

        var outcomes = await grain.UpdateGroupParticipantsAsync(created.GroupJid, GroupParticipantActions.Add, [Contact, Other, Nobody]);
        Assert.Equal([(Contact, GroupParticipantStatuses.AlreadyMember), (Other, GroupParticipantStatuses.Added), (Nobody, GroupParticipantStatuses.NotOnWhatsApp)],
            outcomes.Select(o => (o.Participant, o.Status)));
        var added = await app.EventAsync<GroupParticipantsEvent>(e => e.GroupJid == created.GroupJid && e.Action == GroupParticipantActions.Add, "add event");
        Assert.Equal([new EngineGroupParticipant(Other, otherLid, null)], added.Participants);

        await grain.UpdateGroupAsync(created.GroupJid, new EngineGroupChange(Subject: "Wauzaji wa Kariakoo", Announce: true));
        var renamed = await app.EventAsync<GroupUpdateEvent>(e => e.Change.Subject is not null, "subject event");
        Assert.Equal(("Wauzaji wa Kariakoo", account), (renamed.Change.Subject, renamed.ByPhone));
        var read = await grain.GetGroupAsync(created.GroupJid);
        Assert.Equal(("Wauzaji wa Kariakoo", true, 3), (read.Subject, read.Announce, read.Participants.Count));
        Assert.Contains(await grain.ListGroupsAsync(), g => g.GroupJid == created.GroupJid);

        var code = await grain.GetGroupInviteCodeAsync(created.GroupJid);
        Assert.NotEqual(code, await grain.RevokeGroupInviteCodeAsync(created.GroupJid));

        // A member change made on the contact's phone, in a group the account is an ordinary member of.
        var theirs = (await wa.CommandAsync(new { @do = "add_group", subject = "Familia", participants = new object[] { new { phone = Contact, admin = "superadmin" } },
            accountRole = "member", creator = Contact }))["jid"]!.GetValue<string>();
        await wa.CommandAsync(new { @do = "group_participants", jid = theirs, action = "add", phones = new[] { Other }, author = Contact });
        var theirAdd = await app.EventAsync<GroupParticipantsEvent>(e => e.GroupJid == theirs, "add event in the contact's group");
        Assert.Equal((Contact, contactLid), (theirAdd.ByPhone, theirAdd.ByLid));
        var refused = await Assert.ThrowsAsync<WapBridgeException>(() => grain.UpdateGroupAsync(theirs, new EngineGroupChange(Subject: "Yetu")));
        Assert.Equal("refused", refused.Code);

        await grain.LeaveGroupAsync(created.GroupJid);
        var gone = await Assert.ThrowsAsync<WapBridgeException>(() => grain.GetGroupAsync(created.GroupJid));
        Assert.Equal(ErrorKind.NotFound, gone.Kind);
    }
}
