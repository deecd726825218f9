using System.Text.Json;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Baileys;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>
/// Contacts and groups as the bridge reports them (issue #19; Fixtures/*.json in the shapes of PROTOCOL.md "Contacts and
/// groups (issue 19)", as the real bridge answered them against the fake WhatsApp): group metadata of a LID-addressed
/// group, per-participant outcomes, group events with LID authors, number checks and profiles.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BaileysGroupMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private const string GroupJid = "120363041234567890@g.us";

    private static JsonElement Fixture(string name) =>
        JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Baileys", "Fixtures", name + ".json")));

    /// <summary>The session's map of LIDs it was told the phone of (<c>lid_mapping</c>).</summary>
    private static string? Known(string lid) => lid switch
    {
        "11112222333344@lid" => "255755000004",
        "98765432109876@lid" => "255713000111",
        _ => null,
    };

    [Fact]
    public void Group_metadata_lists_members_by_phone_and_LID_with_their_roles_the_owner_settings_and_creation()
    {
        var group = BaileysGroupMapper.MapGroup(Fixture("group-metadata-lid").GetProperty("group"))!;

        Assert.Equal((GroupJid, "Wauzaji wa Kariakoo", "Bei za leo"), (group.GroupJid, group.Subject, group.Description));
        Assert.Equal(("255700000001", "292870342139625"), (group.OwnerPhone, group.OwnerLid));
        Assert.Equal((true, false), (group.Announce, group.Restrict));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1767791600), group.CreatedAt);
        Assert.Equal([
            new EngineGroupParticipant("255700000001", "292870342139625", GroupRoles.SuperAdmin),
            new EngineGroupParticipant("255713000111", "98765432109876", GroupRoles.Admin),
            new EngineGroupParticipant(null, "11112222333344", null),
            new EngineGroupParticipant("255755000009", null, null),
        ], group.Participants);
    }

    [Fact]
    public void A_member_WhatsApp_lists_by_LID_only_gets_the_phone_the_session_learned_for_it()
    {
        var group = BaileysGroupMapper.MapGroup(Fixture("group-metadata-lid").GetProperty("group"), Known)!;
        Assert.Equal(new EngineGroupParticipant("255755000004", "11112222333344", null), group.Participants[2]);
    }

    [Fact]
    public void Participant_outcomes_come_in_the_order_asked_with_WhatsApps_refusals_and_the_invite_it_sent_instead()
    {
        string[] asked = ["255755000001", "255755000002", "255799999999", "11112222333344@lid", "255755000003", "255755000005"];
        var outcomes = BaileysGroupMapper.MapParticipantResults(Fixture("group-participants-result"), asked);

        Assert.Equal([
            ("255755000001", GroupParticipantStatuses.Added),
            ("255755000002", GroupParticipantStatuses.InviteSent),
            ("255799999999", GroupParticipantStatuses.NotOnWhatsApp),
            ("11112222333344@lid", GroupParticipantStatuses.AlreadyMember),
            ("255755000003", GroupParticipantStatuses.Failed),
            ("255755000005", GroupParticipantStatuses.Failed),
        ], outcomes.Select(o => (o.Participant, o.Status)));
        Assert.Null(outcomes[0].Detail);
        Assert.Contains("privacy", outcomes[1].Detail);
        Assert.Equal("WhatsApp error 500", outcomes[4].Detail);
        Assert.Contains("did not answer", outcomes[5].Detail);
    }

    [Fact]
    public void Members_added_by_a_LID_author_are_an_add_event_with_phones_where_known()
    {
        var e = BaileysGroupMapper.MapParticipantsEvent("INST-01", Now, Fixture("group-participants-event"), Known)!;

        Assert.Equal(("INST-01", Now, GroupJid, GroupParticipantActions.Add), (e.InstanceId, e.At, e.GroupJid, e.Action));
        Assert.Equal([new EngineGroupParticipant("255755000002", "147218313556727", null), new EngineGroupParticipant("255755000004", "11112222333344", null)],
            e.Participants);
        Assert.Equal(("255713000111", "98765432109876"), (e.ByPhone, e.ByLid));

        var unknownAuthor = BaileysGroupMapper.MapParticipantsEvent("INST-01", Now, Fixture("group-participants-event"))!;
        Assert.Equal((null, "98765432109876"), (unknownAuthor.ByPhone, unknownAuthor.ByLid));
    }

    [Fact]
    public void A_member_who_left_on_their_own_is_a_leave_event()
    {
        var e = BaileysGroupMapper.MapParticipantsEvent("INST-01", Now, Fixture("group-leave-event"))!;
        Assert.Equal("leave", e.Action);
        Assert.Equal([new EngineGroupParticipant("255713000111", "98765432109876", null)], e.Participants);
        Assert.Equal(("255713000111", "98765432109876"), (e.ByPhone, e.ByLid));
    }

    [Fact]
    public void A_number_change_or_an_event_without_members_is_not_reported()
    {
        using var modify = JsonDocument.Parse("""{"id":"120363041234567890@g.us","action":"modify","participants":[{"id":"1@lid","lid":"1@lid"}]}""");
        using var empty = JsonDocument.Parse("""{"id":"120363041234567890@g.us","action":"add","participants":[]}""");
        using var noGroup = JsonDocument.Parse("""{"id":"255755000002@s.whatsapp.net","action":"add","participants":[{"id":"1@lid","lid":"1@lid"}]}""");
        Assert.Null(BaileysGroupMapper.MapParticipantsEvent("INST-01", Now, modify.RootElement));
        Assert.Null(BaileysGroupMapper.MapParticipantsEvent("INST-01", Now, empty.RootElement));
        Assert.Null(BaileysGroupMapper.MapParticipantsEvent("INST-01", Now, noGroup.RootElement));
    }

    [Fact]
    public void A_group_update_carries_what_changed_and_who_changed_it()
    {
        var e = BaileysGroupMapper.MapUpdateEvent("INST-01", Now, Fixture("group-update-event"))!;
        Assert.Equal(new GroupUpdateEvent("INST-01", Now, GroupJid, new EngineGroupChange(Subject: "Familia Yetu", Announce: true), "255713000111",
            "98765432109876"), e);
    }

    [Fact]
    public void A_removed_description_is_an_empty_one_not_an_unchanged_one()
    {
        var e = BaileysGroupMapper.MapUpdateEvent("INST-01", Now, Fixture("group-update-desc-removed"), Known)!;
        Assert.Equal(new EngineGroupChange(Description: ""), e.Change);
        Assert.Equal(("255713000111", "98765432109876"), (e.ByPhone, e.ByLid));

        using var nothing = JsonDocument.Parse("""{"id":"120363041234567890@g.us","authorLid":"98765432109876@lid"}""");
        Assert.Null(BaileysGroupMapper.MapUpdateEvent("INST-01", Now, nothing.RootElement));
    }

    [Fact]
    public void A_group_message_from_a_LID_only_author_names_the_author_by_LID_and_by_phone_once_known()
    {
        var raw = Fixture("group-lid-author").GetProperty("raw");
        var unknown = BaileysMessageMapper.MapMessage(raw)!;
        Assert.Equal((GroupJid, null, "11112222333344@lid", "Asha"), (unknown.GroupId, unknown.FromPhone, unknown.FromLid, unknown.PushName));

        var known = BaileysMessageMapper.MapMessage(raw, null, Known)!;
        Assert.Equal(("255755000004", "11112222333344@lid"), (known.FromPhone, known.FromLid));
    }

    [Fact]
    public void The_stub_message_Baileys_makes_of_a_group_notification_is_no_chat_message()
    {
        Assert.Null(BaileysMessageMapper.MapMessage(Fixture("group-stub-notification").GetProperty("raw")));
    }

    [Fact]
    public void Number_checks_answer_each_phone_in_order_with_the_JID_and_the_LIDs_digits()
    {
        var answers = BaileysGroupMapper.MapNumberChecks(Fixture("check-numbers"), ["255755000001", "255799999999", "255755000003", "255700000000"]);
        Assert.Equal([
            new NumberCheckResult(true, "255755000001@s.whatsapp.net"),
            new NumberCheckResult(false, null),
            new NumberCheckResult(true, "255755000003@s.whatsapp.net", "55566677788899"),
            null,
        ], answers);
    }

    [Fact]
    public void A_profile_has_the_push_name_about_and_picture_link_and_parts_WhatsApp_hides_are_null()
    {
        Assert.Equal(new EngineProfile("255755000003", "55566677788899", "Baraka", "Karibu dukani", "https://pps.whatsapp.invalid/v/t61/255755000003.jpg?type=image"),
            BaileysGroupMapper.MapProfile(Fixture("profile"), "255755000003"));

        using var bare = JsonDocument.Parse("""{"jid":"11112222333344@lid","lid":"11112222333344@lid"}""");
        Assert.Equal(new EngineProfile("255755000004", "11112222333344", null, null, null), BaileysGroupMapper.MapProfile(bare.RootElement, "11112222333344@lid", Known));
    }

    [Fact]
    public void Contacts_synced_names_each_person_by_phone_digits_and_LID_user_part_with_the_phone_the_session_knows_for_a_LID()
    {
        var synced = BaileysGroupMapper.MapContactsSynced("INST-01", Now, Fixture("contacts-synced"),
            lid => lid == "190000000100004@lid" ? "255755100004" : null)!;

        Assert.Equal(("INST-01", Now), (synced.InstanceId, synced.At));
        Assert.Equal(
            [new EngineContactRef("255755100001", null), new EngineContactRef("255755100002", "190000000100002"),
                new EngineContactRef(null, "190000000100003"), new EngineContactRef("255755100004", "190000000100004")],
            synced.Contacts);
        Assert.Null(BaileysGroupMapper.MapContactsSynced("INST-01", Now, JsonSerializer.SerializeToElement(new { contacts = new[] { new { phone = "status@broadcast" } } })));
        Assert.Null(BaileysGroupMapper.MapContactsSynced("INST-01", Now, JsonSerializer.SerializeToElement(new { contacts = "none" })));
    }

    [Theory]
    [InlineData("255755000001", "255755000001@s.whatsapp.net")]
    [InlineData("11112222333344@lid", "11112222333344@lid")]
    public void Participants_go_to_the_bridge_as_JIDs(string participant, string jid) =>
        Assert.Equal(jid, BaileysGroupMapper.ParticipantJid(participant));
}
