using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;

namespace WapBridge.Tests.Engines.Simulator;

[Trait("Category", "Unit")]
public sealed class SimulatorGroupsTests
{
    private readonly SimulatorHarness _sim = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Contact = "255755123456";
    private const string NotOnWhatsApp = "255755129999";
    private const string InviteOnly = "255755127777";

    private async Task<(SimulatorHarness.Phone Owner, SimulatorHarness.Phone Member, SimulatorHarness.Phone Outsider, EngineGroup Group)> GroupAsync(
        string subject = "Team", int n = 0)
    {
        var owner = await _sim.ConnectAsync($"INST-01-00002{n}1", $"2557000002{n}1");
        var member = await _sim.ConnectAsync($"INST-01-00002{n}2", $"2557000002{n}2");
        var outsider = await _sim.ConnectAsync($"INST-01-00002{n}3", $"2557000002{n}3");
        var group = await owner.Groups.CreateGroupAsync(subject, [member.Number, Contact], Ct);
        return (owner, member, outsider, group);
    }

    private static string Shape(EngineGroup g) =>
        $"{g with { Participants = [] }} {string.Join(",", g.Participants)}";

    private static GroupParticipantsEvent LastParticipants(SimulatorHarness.Phone phone) => phone.Sink.Of<GroupParticipantsEvent>().Last();

    [Fact]
    public async Task Creating_a_group_makes_the_instance_superadmin_leaves_out_numbers_not_on_whatsapp_and_tells_every_member_instance()
    {
        var owner = await _sim.ConnectAsync("INST-01-0000201", "255700000201");
        var member = await _sim.ConnectAsync("INST-01-0000202", "255700000202");
        var outsider = await _sim.ConnectAsync("INST-01-0000203", "255700000203");
        var stranger = await _sim.ConnectAsync("INST-01-0000204", "255700000204", customerId: 2);
        var lid = (await owner.Session.CheckNumberAsync("255755100001", Ct))!.Lid;

        var group = await owner.Groups.CreateGroupAsync("Team", [member.Number, Contact, NotOnWhatsApp, InviteOnly, lid + "@lid", stranger.Number], Ct);

        Assert.Matches("^120363[0-9]{12}@g\\.us$", group.GroupJid);
        Assert.Equal(("Team", "255700000201"), (group.Subject, group.OwnerPhone));
        Assert.Equal(
            [("255700000201", GroupRoles.SuperAdmin), (member.Number, null), (Contact, null), ("255755100001", null), (stranger.Number, null)],
            group.Participants.Select(p => (p.Phone, p.Admin)));
        Assert.All(group.Participants, p => Assert.Matches("^[1-9][0-9]{14}$", p.Lid));
        Assert.False(group.Announce || group.Restrict);

        foreach (var told in new[] { owner, member })
        {
            var added = Assert.Single(told.Sink.Of<GroupParticipantsEvent>());
            Assert.Equal((told.InstanceId, group.GroupJid, GroupParticipantActions.Add, owner.Number), (added.InstanceId, added.GroupJid, added.Action, added.ByPhone));
            Assert.Equal(group.Participants.Select(p => p.Phone), added.Participants.Select(p => p.Phone));
            Assert.Equal(group.OwnerLid, added.ByLid);
        }
        // Another customer's instance is an outside contact in this world: it hears nothing.
        Assert.Empty(stranger.Sink.Of<GroupParticipantsEvent>());
        Assert.Empty(outsider.Sink.Of<GroupParticipantsEvent>());
        Assert.Empty(await stranger.Groups.ListGroupsAsync(Ct));
    }

    [Fact]
    public async Task Members_list_and_get_the_group_and_anyone_else_finds_nothing()
    {
        var (owner, member, outsider, group) = await GroupAsync();

        Assert.Equal(Shape(group), Shape(Assert.Single(await owner.Groups.ListGroupsAsync(Ct))));
        Assert.Equal(Shape(group), Shape(Assert.Single(await member.Groups.ListGroupsAsync(Ct))));
        Assert.Equal(Shape(group), Shape(await member.Groups.GetGroupAsync(group.GroupJid, Ct)));
        Assert.Empty(await outsider.Groups.ListGroupsAsync(Ct));
        Assert.Equal("group_not_found", (await Assert.ThrowsAsync<EngineNotFoundException>(() => outsider.Groups.GetGroupAsync(group.GroupJid, Ct))).Code);
        Assert.Equal("group_not_found", (await Assert.ThrowsAsync<EngineNotFoundException>(() => owner.Groups.GetGroupAsync("120363000000000000@g.us", Ct))).Code);
    }

    [Fact]
    public async Task Adding_answers_per_participant_and_the_added_instance_learns_of_the_group()
    {
        var (owner, member, outsider, group) = await GroupAsync(n: 1);

        var outcomes = await owner.Groups.UpdateParticipantsAsync(group.GroupJid, GroupParticipantActions.Add,
            [NotOnWhatsApp, member.Number, InviteOnly, outsider.Number, "not-a-number"], Ct);

        Assert.Equal(
            [(NotOnWhatsApp, GroupParticipantStatuses.NotOnWhatsApp), (member.Number, GroupParticipantStatuses.AlreadyMember),
             (InviteOnly, GroupParticipantStatuses.InviteSent), (outsider.Number, GroupParticipantStatuses.Added),
             ("not-a-number", GroupParticipantStatuses.NotOnWhatsApp)],
            outcomes.Select(o => (o.Participant, o.Status)));
        Assert.Contains("invite", outcomes[2].Detail);
        foreach (var told in new[] { owner, member, outsider })
        {
            var added = LastParticipants(told);
            Assert.Equal((GroupParticipantActions.Add, owner.Number), (added.Action, added.ByPhone));
            Assert.Equal([outsider.Number], added.Participants.Select(p => p.Phone));
        }
        Assert.Equal(group.GroupJid, Assert.Single(await outsider.Groups.ListGroupsAsync(Ct)).GroupJid);
        Assert.DoesNotContain(InviteOnly, (await owner.Groups.GetGroupAsync(group.GroupJid, Ct)).Participants.Select(p => p.Phone));
    }

    [Fact]
    public async Task Removing_promoting_and_demoting_tell_every_member_and_only_admins_may()
    {
        var (owner, member, _, group) = await GroupAsync(n: 2);
        var jid = group.GroupJid;

        var refused = await Assert.ThrowsAsync<EngineRefusedException>(() => member.Groups.UpdateParticipantsAsync(jid, GroupParticipantActions.Remove, [Contact], Ct));
        Assert.Equal("not_group_admin", refused.Code);

        var promoted = await owner.Groups.UpdateParticipantsAsync(jid, GroupParticipantActions.Promote, [member.Number, "255755100002"], Ct);
        Assert.Equal([GroupParticipantStatuses.Promoted, GroupParticipantStatuses.NotMember], promoted.Select(o => o.Status));
        var heard = LastParticipants(member);
        Assert.Equal((GroupParticipantActions.Promote, GroupRoles.Admin, owner.Number), (heard.Action, Assert.Single(heard.Participants).Admin, heard.ByPhone));

        // Now an admin, the member removes the contact, and cannot remove the group's creator.
        var removed = await member.Groups.UpdateParticipantsAsync(jid, GroupParticipantActions.Remove, [Contact, Contact, owner.Number], Ct);
        Assert.Equal([GroupParticipantStatuses.Removed, GroupParticipantStatuses.NotMember, GroupParticipantStatuses.Refused], removed.Select(o => o.Status));
        foreach (var told in new[] { owner, member })
        {
            var e = LastParticipants(told);
            Assert.Equal((GroupParticipantActions.Remove, member.Number, Contact), (e.Action, e.ByPhone, Assert.Single(e.Participants).Phone));
        }

        var demoted = await owner.Groups.UpdateParticipantsAsync(jid, GroupParticipantActions.Demote, [member.Number], Ct);
        Assert.Equal(GroupParticipantStatuses.Demoted, Assert.Single(demoted).Status);
        Assert.Equal(GroupParticipantActions.Demote, LastParticipants(member).Action);
        Assert.Equal([(owner.Number, GroupRoles.SuperAdmin), (member.Number, null)],
            (await owner.Groups.GetGroupAsync(jid, Ct)).Participants.Select(p => (p.Phone, p.Admin)));

        // A removed instance is told too, and the group is gone for it.
        await owner.Groups.UpdateParticipantsAsync(jid, GroupParticipantActions.Remove, [member.Number], Ct);
        Assert.Equal((GroupParticipantActions.Remove, member.Number), (LastParticipants(member).Action, Assert.Single(LastParticipants(member).Participants).Phone));
        await Assert.ThrowsAsync<EngineNotFoundException>(() => member.Groups.GetGroupAsync(jid, Ct));
        Assert.Equal("group_not_found", (await Assert.ThrowsAsync<EngineNotFoundException>(
            () => member.Groups.UpdateParticipantsAsync(jid, GroupParticipantActions.Add, [Contact], Ct))).Code);
    }

    [Fact]
    public async Task Updating_the_group_tells_every_member_and_settings_are_for_admins()
    {
        var (owner, member, _, group) = await GroupAsync(n: 3);
        var jid = group.GroupJid;

        await member.Groups.UpdateGroupAsync(jid, new EngineGroupChange(Subject: "Team 2", Description: "Our team"), Ct);
        foreach (var told in new[] { owner, member })
        {
            var update = told.Sink.Of<GroupUpdateEvent>().Last();
            Assert.Equal((jid, "Team 2", "Our team", member.Number), (update.GroupJid, update.Change.Subject, update.Change.Description, update.ByPhone));
        }
        Assert.Equal("not_group_admin", (await Assert.ThrowsAsync<EngineRefusedException>(
            () => member.Groups.UpdateGroupAsync(jid, new EngineGroupChange(Announce: true), Ct))).Code);
        Assert.Equal("subject_too_long", (await Assert.ThrowsAsync<EngineRefusedException>(
            () => owner.Groups.UpdateGroupAsync(jid, new EngineGroupChange(Subject: new string('x', 101)), Ct))).Code);

        await owner.Groups.UpdateGroupAsync(jid, new EngineGroupChange(Restrict: true), Ct);
        Assert.Equal(true, member.Sink.Of<GroupUpdateEvent>().Last().Change.Restrict);
        Assert.Equal("not_group_admin", (await Assert.ThrowsAsync<EngineRefusedException>(
            () => member.Groups.UpdateGroupAsync(jid, new EngineGroupChange(Subject: "Mine"), Ct))).Code);
        await owner.Groups.UpdateGroupAsync(jid, new EngineGroupChange(Subject: new string('x', 100), Announce: true), Ct);

        var now = await member.Groups.GetGroupAsync(jid, Ct);
        Assert.Equal((new string('x', 100), "Our team", true, true), (now.Subject, now.Description, now.Announce, now.Restrict));
        Assert.Equal(3, owner.Sink.Of<GroupUpdateEvent>().Count);
    }

    [Fact]
    public async Task Invite_codes_are_stable_until_revoked_and_joining_and_leaving_tell_every_member()
    {
        var (owner, member, outsider, group) = await GroupAsync(n: 4);
        var jid = group.GroupJid;

        var code = await owner.Groups.GetInviteCodeAsync(jid, Ct);
        Assert.Matches("^[A-Za-z0-9]{22}$", code);
        Assert.Equal(code, await owner.Groups.GetInviteCodeAsync(jid, Ct));
        Assert.Equal("not_group_admin", (await Assert.ThrowsAsync<EngineRefusedException>(() => member.Groups.GetInviteCodeAsync(jid, Ct))).Code);
        var revoked = await owner.Groups.RevokeInviteCodeAsync(jid, Ct);
        Assert.NotEqual(code, revoked);
        Assert.Equal("invite_not_found", (await Assert.ThrowsAsync<EngineNotFoundException>(() => outsider.Groups.JoinGroupAsync(code, Ct))).Code);

        Assert.Equal(jid, await outsider.Groups.JoinGroupAsync(revoked, Ct));
        foreach (var told in new[] { owner, member, outsider })
        {
            var joined = LastParticipants(told);
            Assert.Equal((GroupParticipantActions.Add, outsider.Number, outsider.Number), (joined.Action, Assert.Single(joined.Participants).Phone, joined.ByPhone));
        }
        Assert.Contains(outsider.Number, (await owner.Groups.GetGroupAsync(jid, Ct)).Participants.Select(p => p.Phone));

        await member.Groups.LeaveGroupAsync(jid, Ct);
        foreach (var told in new[] { owner, member, outsider })
        {
            var left = LastParticipants(told);
            Assert.Equal(("leave", member.Number, member.Number), (left.Action, Assert.Single(left.Participants).Phone, left.ByPhone));
        }
        Assert.Empty(await member.Groups.ListGroupsAsync(Ct));
        await Assert.ThrowsAsync<EngineNotFoundException>(() => member.Groups.LeaveGroupAsync(jid, Ct));
    }

    [Fact]
    public async Task When_the_last_admin_leaves_the_longest_standing_member_becomes_admin()
    {
        var (owner, member, _, group) = await GroupAsync(n: 5);

        await owner.Groups.LeaveGroupAsync(group.GroupJid, Ct);

        var promoted = LastParticipants(member);
        Assert.Equal((GroupParticipantActions.Promote, member.Number), (promoted.Action, Assert.Single(promoted.Participants).Phone));
        Assert.Equal(GroupRoles.Admin, (await member.Groups.GetGroupAsync(group.GroupJid, Ct)).Participants.Single(p => p.Phone == member.Number).Admin);
    }

    [Fact]
    public async Task A_message_to_the_group_reaches_every_other_member_instance_with_its_author_and_receipts_go_back_to_the_sender()
    {
        var (owner, member, outsider, group) = await GroupAsync(n: 6);
        await owner.Groups.UpdateParticipantsAsync(group.GroupJid, GroupParticipantActions.Add, [outsider.Number], Ct);
        var message = new OutgoingMessage(WhatsAppIds.NewMessageId(), group.GroupJid, "Hello team") { ToJid = group.GroupJid };

        Assert.True((await member.Session.SendAsync(message, Ct)).Accepted);

        foreach (var told in new[] { owner, outsider })
        {
            var received = Assert.Single(told.Sink.Of<MessageReceivedEvent>()).Message;
            Assert.Equal((message.Id, group.GroupJid, member.Number, "Hello team", "Shop " + member.Number),
                (received.Id, received.GroupId, received.FromPhone, received.Body, received.PushName));
        }
        Assert.Empty(member.Sink.Of<MessageReceivedEvent>());
        Assert.Equal([MessageAck.Server], member.Sink.Of<MessageStatusEvent>().Select(e => e.Ack));
        _sim.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal([MessageAck.Server, MessageAck.Device, MessageAck.Read], member.Sink.Of<MessageStatusEvent>().Select(e => e.Ack));
    }

    [Fact]
    public async Task Only_members_send_to_a_group_and_only_admins_to_an_announce_group_while_outside_groups_work_as_before()
    {
        var (owner, member, outsider, group) = await GroupAsync(n: 7);
        OutgoingMessage To(string jid) => new(WhatsAppIds.NewMessageId(), jid, "Hi") { ToJid = jid };

        var notMember = await outsider.Session.SendAsync(To(group.GroupJid), Ct);
        Assert.Equal("not_group_member", notMember.ErrorCode);

        await owner.Groups.UpdateGroupAsync(group.GroupJid, new EngineGroupChange(Announce: true), Ct);
        Assert.Equal("not_group_admin", (await member.Session.SendAsync(To(group.GroupJid), Ct)).ErrorCode);
        Assert.True((await owner.Session.SendAsync(To(group.GroupJid), Ct)).Accepted);
        Assert.Single(member.Sink.Of<MessageReceivedEvent>());

        // A group this world does not hold is someone else's: sent, delivered nowhere.
        Assert.True((await outsider.Session.SendAsync(To("120363041234567890@g.us"), Ct)).Accepted);
        Assert.Empty(outsider.Sink.Of<MessageReceivedEvent>());
    }

    [Fact]
    public async Task A_contacts_message_in_a_group_of_this_world_reaches_every_member_instance_and_unknown_groups_work_as_before()
    {
        var (owner, member, outsider, group) = await GroupAsync(n: 8);

        var id = await _sim.Network.InjectInboundAsync(owner.InstanceId, new SimulatedInbound(Contact, null, "Hi all", GroupId: group.GroupJid), Ct);
        await _sim.Network.InjectInboundAsync(outsider.InstanceId, new SimulatedInbound(Contact, null, "Elsewhere", GroupId: "120363025246125486@g.us"), Ct);

        foreach (var told in new[] { owner, member })
        {
            var received = Assert.Single(told.Sink.Of<MessageReceivedEvent>()).Message;
            Assert.Equal((id, group.GroupJid, Contact), (received.Id, received.GroupId, received.FromPhone));
        }
        var elsewhere = Assert.Single(outsider.Sink.Of<MessageReceivedEvent>()).Message;
        Assert.Equal(("120363025246125486@g.us", "Elsewhere"), (elsewhere.GroupId, elsewhere.Body));
    }

    [Fact]
    public async Task A_reply_to_a_lid_of_this_world_reaches_the_instance_behind_it()
    {
        var shop = await _sim.ConnectAsync("INST-01-0000291", "255700000291");
        var branch = await _sim.ConnectAsync("INST-01-0000292", "255700000292");
        var lid = (await shop.Session.CheckNumberAsync(branch.Number, Ct))!.Lid + "@lid";

        Assert.True((await shop.Session.SendAsync(new OutgoingMessage(WhatsAppIds.NewMessageId(), lid, "Via LID") { ToJid = lid }, Ct)).Accepted);

        Assert.Equal("Via LID", Assert.Single(branch.Sink.Of<MessageReceivedEvent>()).Message.Body);
    }
}
