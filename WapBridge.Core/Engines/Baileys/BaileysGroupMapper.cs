using System.Text.Json;
using static WapBridge.Core.Engines.Baileys.BaileysMessageMapper;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// What the bridge answers and reports about contacts and groups (PROTOCOL.md "Contacts and groups (issue 19)") in
/// engine terms: group metadata, per-participant outcomes, number checks, profiles, and the <c>group_participants</c>
/// / <c>group_update</c> events. Members are told apart by phone digits and by LID user part (digits), as
/// <see cref="EngineGroupParticipant"/> holds them. Pure, like <see cref="BaileysMessageMapper"/>.
/// </summary>
public static class BaileysGroupMapper
{
    private const string GroupServer = "@g.us";

    /// <summary>A participant as the engine contract writes it (phone digits, or <c>&lt;digits&gt;@lid</c>) as the bridge's JID.</summary>
    public static string ParticipantJid(string participant) =>
        participant.EndsWith(LidServer, StringComparison.Ordinal) ? participant : participant + UserServer;

    /// <summary>
    /// The engine contract's participant (<c>&lt;digits&gt;@lid</c> or phone digits) for a JID the bridge answered; null
    /// when it is neither.
    /// </summary>
    public static string? ParticipantOf(string jid) => IsLid(jid) ? BareLid(jid) : PhoneOf(jid);

    /// <summary>The LID user part (digits) of a <c>…@lid</c> JID, else null.</summary>
    public static string? LidDigits(string? jid) => jid is not null && IsLid(jid) ? BareLid(jid)[..^LidServer.Length] : null;

    /// <summary>A <c>group</c> object of the bridge (Baileys' GroupMetadata, participants described), or null without an id.</summary>
    /// <param name="phoneForLid">Phone digits known for a bare LID (<c>…@lid</c>), from the session's <c>lid_mapping</c> events.</param>
    public static EngineGroup? MapGroup(JsonElement group, Func<string, string?>? phoneForLid = null)
    {
        var id = Str(group, "id");
        if (group.ValueKind != JsonValueKind.Object || string.IsNullOrEmpty(id) || !id.EndsWith(GroupServer, StringComparison.Ordinal))
            return null;
        var participants = group.TryGetProperty("participants", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(p => MapParticipant(p, phoneForLid)).OfType<EngineGroupParticipant>().ToList()
            : [];
        var (ownerPhone, ownerLid) = Person(Str(group, "owner"), Str(group, "ownerLid"), phoneForLid);
        DateTimeOffset? created = Num(group, "creation") is > 0 and var seconds ? DateTimeOffset.FromUnixTimeSeconds((long)seconds) : null;
        return new EngineGroup(id, Str(group, "subject") ?? "", NullIfEmpty(Str(group, "desc")), ownerPhone, ownerLid, participants,
            Bool(group, "announce"), Bool(group, "restrict"), created);
    }

    /// <summary>One described participant <c>{id, phone?, lid?, admin?}</c>, or null when it names nobody.</summary>
    public static EngineGroupParticipant? MapParticipant(JsonElement participant, Func<string, string?>? phoneForLid = null)
    {
        if (participant.ValueKind != JsonValueKind.Object)
            return null;
        var id = Str(participant, "id");
        var phoneJid = Str(participant, "phone") ?? (id is not null && PhoneOf(id) is not null ? id : null);
        var lidJid = Str(participant, "lid") ?? (id is not null && IsLid(id) ? id : null);
        var (phone, lid) = Person(phoneJid, lidJid, phoneForLid);
        if (phone is null && lid is null)
            return null;
        var admin = Str(participant, "admin") switch
        {
            GroupRoles.SuperAdmin => GroupRoles.SuperAdmin,
            GroupRoles.Admin => GroupRoles.Admin,
            _ => null,
        };
        return new EngineGroupParticipant(phone, lid, admin);
    }

    /// <summary>
    /// A <c>contacts_synced</c> event (PROTOCOL.md "Known contacts (issue 20)"): the people WhatsApp synced, by phone
    /// digits and LID user part; null when it names nobody.
    /// </summary>
    public static ContactsSyncedEvent? MapContactsSynced(string instanceId, DateTimeOffset now, JsonElement data, Func<string, string?>? phoneForLid = null)
    {
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("contacts", out var list) || list.ValueKind != JsonValueKind.Array)
            return null;
        var contacts = list.EnumerateArray()
            .Where(c => c.ValueKind == JsonValueKind.Object)
            .Select(c => Person(Str(c, "phone"), Str(c, "lid") is { } lid && IsLid(lid) ? lid : null, phoneForLid))
            .Where(c => c.Phone is not null || c.Lid is not null)
            .Select(c => new EngineContactRef(c.Phone, c.Lid))
            .ToList();
        return contacts.Count == 0 ? null : new ContactsSyncedEvent(instanceId, now, contacts);
    }

    private static (string? Phone, string? Lid) Person(string? phoneJid, string? lidJid, Func<string, string?>? phoneForLid)
    {
        var lid = LidDigits(lidJid);
        var phone = PhoneOf(phoneJid);
        if (phone is null && lidJid is not null && IsLid(lidJid) && phoneForLid?.Invoke(BareLid(lidJid)) is { Length: > 0 } known)
            phone = known;
        return (phone, lid);
    }

    /// <summary>
    /// <c>group_participants</c>' <c>results</c>: one outcome per participant asked, in the order asked (the bridge answers
    /// in that order, naming each); a participant the bridge did not answer for is <see cref="GroupParticipantStatuses.Failed"/>.
    /// </summary>
    public static IReadOnlyList<EngineParticipantOutcome> MapParticipantResults(JsonElement result, IReadOnlyList<string> asked)
    {
        var byJid = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("results", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var entry in list.EnumerateArray())
                if (Str(entry, "participant") is { } jid)
                    byJid.TryAdd(jid, entry);
        return asked.Select(participant =>
        {
            if (!byJid.TryGetValue(ParticipantJid(participant), out var entry))
                return new EngineParticipantOutcome(participant, GroupParticipantStatuses.Failed, "WhatsApp did not answer for this participant.");
            var status = Str(entry, "status");
            var detail = NullIfEmpty(Str(entry, "detail"));
            if (status is null || !KnownStatuses.Contains(status))
                return new EngineParticipantOutcome(participant, GroupParticipantStatuses.Failed, detail ?? $"WhatsApp answered {status ?? "nothing"}.");
            return new EngineParticipantOutcome(participant, status, detail);
        }).ToList();
    }

    private static readonly HashSet<string> KnownStatuses =
    [
        GroupParticipantStatuses.Added, GroupParticipantStatuses.Removed, GroupParticipantStatuses.Promoted, GroupParticipantStatuses.Demoted,
        GroupParticipantStatuses.InviteSent, GroupParticipantStatuses.AlreadyMember, GroupParticipantStatuses.NotMember,
        GroupParticipantStatuses.NotOnWhatsApp, GroupParticipantStatuses.RecentlyLeft, GroupParticipantStatuses.Refused, GroupParticipantStatuses.Failed,
    ];

    /// <summary>Actions of <c>group_participants</c> events the host reports; Baileys' <c>modify</c> (a member changed number) is not one.</summary>
    private static readonly HashSet<string> ReportedActions =
    [
        GroupParticipantActions.Add, GroupParticipantActions.Remove, GroupParticipantActions.Promote, GroupParticipantActions.Demote, "leave",
    ];

    /// <summary>A <c>group_participants</c> event, or null when it names no group, an action the host does not report, or nobody.</summary>
    public static GroupParticipantsEvent? MapParticipantsEvent(string instanceId, DateTimeOffset now, JsonElement data, Func<string, string?>? phoneForLid = null)
    {
        var id = Str(data, "id");
        var action = Str(data, "action");
        if (id is null || !id.EndsWith(GroupServer, StringComparison.Ordinal) || action is null || !ReportedActions.Contains(action))
            return null;
        var participants = data.TryGetProperty("participants", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(p => MapParticipant(p, phoneForLid)).OfType<EngineGroupParticipant>().ToList()
            : [];
        if (participants.Count == 0)
            return null;
        var (byPhone, byLid) = Person(Str(data, "author"), Str(data, "authorLid"), phoneForLid);
        return new GroupParticipantsEvent(instanceId, now, id, action, participants, byPhone, byLid);
    }

    /// <summary>A <c>group_update</c> event, or null when it names no group or changes nothing the host keeps.</summary>
    public static GroupUpdateEvent? MapUpdateEvent(string instanceId, DateTimeOffset now, JsonElement data, Func<string, string?>? phoneForLid = null)
    {
        var id = Str(data, "id");
        if (id is null || !id.EndsWith(GroupServer, StringComparison.Ordinal))
            return null;
        // A removed description comes as an empty one: the change is "no description" (""), not "unchanged" (null).
        var description = data.TryGetProperty("desc", out var desc) ? desc.ValueKind == JsonValueKind.String ? desc.GetString() : "" : null;
        var change = new EngineGroupChange(Str(data, "subject"), description, OptionalBool(data, "announce"), OptionalBool(data, "restrict"));
        if (change.IsEmpty)
            return null;
        var (byPhone, byLid) = Person(Str(data, "author"), Str(data, "authorLid"), phoneForLid);
        return new GroupUpdateEvent(instanceId, now, id, change, byPhone, byLid);
    }

    private static bool? OptionalBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    /// <summary>
    /// <c>check_numbers</c>' <c>results</c>, one per phone asked in order; null where the bridge did not answer for it (the
    /// engine cannot tell).
    /// </summary>
    public static IReadOnlyList<NumberCheckResult?> MapNumberChecks(JsonElement result, IReadOnlyList<string> phones)
    {
        var byPhone = new Dictionary<string, NumberCheckResult>(StringComparer.Ordinal);
        if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("results", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var entry in list.EnumerateArray())
                if (Str(entry, "phone") is { } phone)
                    byPhone.TryAdd(phone, MapNumberCheck(entry));
        return phones.Select(phone => byPhone.GetValueOrDefault(phone)).ToList();
    }

    /// <summary>One number check <c>{exists, jid?, lid?}</c> (also <c>check_number</c>'s answer).</summary>
    public static NumberCheckResult MapNumberCheck(JsonElement entry)
    {
        var exists = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("exists", out var x) && x.ValueKind == JsonValueKind.True;
        return exists ? new NumberCheckResult(true, Str(entry, "jid"), LidDigits(Str(entry, "lid"))) : new NumberCheckResult(false, null);
    }

    /// <summary><c>profile</c>'s answer; the phone falls back to the one asked for, the LID to the session's map.</summary>
    public static EngineProfile MapProfile(JsonElement result, string user, Func<string, string?>? phoneForLid = null)
    {
        var asked = ParticipantJid(user);
        var (phone, lid) = Person(Str(result, "phone") ?? (IsLid(asked) ? null : asked), Str(result, "lid") ?? (IsLid(asked) ? asked : null), phoneForLid);
        return new EngineProfile(phone, lid, NullIfEmpty(Str(result, "pushName")), NullIfEmpty(Str(result, "about")), NullIfEmpty(Str(result, "pictureUrl")));
    }
}
