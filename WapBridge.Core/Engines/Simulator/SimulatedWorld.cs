using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// What members of a group learn from a change: <see cref="Action"/> (add/remove/promote/demote/leave) with its
/// <see cref="Participants"/>, or else <see cref="Change"/> (subject, description, settings); <see cref="To"/> are the
/// phones to tell (every member, the one who acted included, and those just removed).
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-group-notice")]
public sealed record SimulatedGroupNotice(
    [property: Id(0)] IReadOnlyList<string> To,
    [property: Id(1)] string GroupJid,
    [property: Id(2)] string? Action,
    [property: Id(3)] IReadOnlyList<EngineGroupParticipant>? Participants,
    [property: Id(4)] EngineGroupChange? Change,
    [property: Id(5)] string? ByPhone);

/// <summary>
/// A simulated world's answer: the value and who to tell, or the refusal the engine throws (exceptions do not cross
/// nodes with their codes, so the refusal travels as data and is thrown by the session).
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-world-answer`1")]
public sealed record SimulatedWorldAnswer<T>(
    [property: Id(0)] T? Value,
    [property: Id(1)] IReadOnlyList<SimulatedGroupNotice> Notices,
    [property: Id(2)] bool NotFound = false,
    [property: Id(3)] string? ErrorCode = null,
    [property: Id(4)] string? ErrorMessage = null)
{
    public T Unwrap() => ErrorCode is null
        ? Value!
        : throw (NotFound ? new EngineNotFoundException(ErrorCode, ErrorMessage!) : new EngineRefusedException(ErrorCode, ErrorMessage!));
}

/// <summary>Which instance (its code) is connected as a phone; <see cref="Token"/> names the connection.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-phone-entry")]
public sealed record SimulatedPhoneEntry([property: Id(0)] string InstanceCode, [property: Id(1)] string? PushName, [property: Id(2)] Guid Token);

/// <summary>A participant as asked (digits or <c>…@lid</c>) and the phone it stands for; null when it is no number this world knows.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-participant")]
public sealed record SimulatedParticipantRef([property: Id(0)] string Asked, [property: Id(1)] string? Phone);

/// <summary>Whether a phone may post in a group of the world, and who else receives it.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.simulated-group-post")]
public sealed record SimulatedGroupPost(
    [property: Id(0)] bool Known,
    [property: Id(1)] IReadOnlyList<string> OtherMembers,
    [property: Id(2)] string? RefusalCode = null,
    [property: Id(3)] string? Refusal = null);

/// <summary>
/// One customer's simulated groups, by phone: who is in them with which role, their settings and invite codes. Not
/// thread-safe: its owner (a lock on one node, the customer's world actor in a cluster) calls it one call at a time.
/// Participants arrive as phone digits; the session resolves LIDs before.
/// </summary>
internal sealed class SimulatedWorld(int customerId, SimulatorOptions options, TimeProvider time)
{
    public const int MaxSubject = 100;
    private const string InviteAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private sealed class Group(string jid, string subject, DateTimeOffset createdAt, string owner)
    {
        public string Jid { get; } = jid;
        public string Subject { get; set; } = subject;
        public string? Description { get; set; }
        public string Owner { get; } = owner;
        public DateTimeOffset CreatedAt { get; } = createdAt;
        public bool Announce { get; set; }
        public bool Restrict { get; set; }
        public string? InviteCode { get; set; }

        /// <summary>Members in the order they joined, with their role (<see cref="GroupRoles"/> or null).</summary>
        public OrderedDictionary<string, string?> Members { get; } = new(StringComparer.Ordinal);

        public bool IsAdmin(string phone) => Members.TryGetValue(phone, out var role) && role is not null;
    }

    private readonly Dictionary<string, SimulatedPhoneEntry> _phones = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _invites = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedConditions> _conditions = new(StringComparer.Ordinal);
    private Regex? _inviteOnly;
    private Regex? _notOnWhatsApp;

    /// <summary>The phone is connected as one of the customer's instances now.</summary>
    public void Register(string phone, SimulatedPhoneEntry entry) => _phones[phone] = entry;

    /// <summary>That connection ended; false when the phone was registered again since (a newer connection).</summary>
    public bool Unregister(string phone, Guid token) =>
        _phones.TryGetValue(phone, out var entry) && entry.Token == token && _phones.Remove(phone);

    /// <summary>
    /// Every connected instance's phone. <paramref name="here"/> are the phones a node holds: they are registered again
    /// should this world have forgotten them (its actor restarted on another node).
    /// </summary>
    public Dictionary<string, SimulatedPhoneEntry> Directory(IReadOnlyDictionary<string, SimulatedPhoneEntry> here)
    {
        foreach (var (phone, entry) in here)
            _phones.TryAdd(phone, entry);
        return new Dictionary<string, SimulatedPhoneEntry>(_phones, StringComparer.Ordinal);
    }

    /// <summary>What WhatsApp does to the phone now (contract §12).</summary>
    public SimulatedConditions Conditions(string phone) => _conditions.GetValueOrDefault(phone, SimulatedConditions.None);

    /// <summary>Changes the phone's conditions; answers them as they are now.</summary>
    public SimulatedConditions UpdateConditions(string phone, SimulatedConditionsChange change)
    {
        var conditions = Conditions(phone).With(change);
        if (conditions is { RestrictedUntil: null, BannedUntil: null, BlockedBy.Count: 0, ReplyRate: null })
            _conditions.Remove(phone);
        else
            _conditions[phone] = conditions;
        return conditions;
    }

    public IReadOnlyList<EngineGroup> List(string phone) =>
        _groups.Values.Where(g => g.Members.ContainsKey(phone)).OrderBy(g => g.CreatedAt).Select(Describe).ToList();

    public SimulatedWorldAnswer<EngineGroup> Get(string phone, string jid) =>
        Member(phone, jid, out var group) is { } missing ? Fail<EngineGroup>(missing) : Ok(Describe(group!));

    public SimulatedWorldAnswer<EngineGroup> Create(string phone, string subject, IReadOnlyList<string> participants)
    {
        if (SubjectProblem(subject) is { } problem)
            return problem.As<EngineGroup>();
        string jid;
        do jid = "120363" + RandomDigits(12) + "@g.us";
        while (_groups.ContainsKey(jid));
        var group = new Group(jid, subject.Trim(), time.GetUtcNow(), phone);
        group.Members[phone] = GroupRoles.SuperAdmin;
        // As WhatsApp does, numbers it refuses (not on WhatsApp, privacy settings) are left out of a new group.
        foreach (var participant in participants.Distinct())
            if (participant != phone && IsOnWhatsApp(participant) && !InviteOnly(participant))
                group.Members[participant] = null;
        _groups[jid] = group;
        var notice = Notice(group, GroupParticipantActions.Add, group.Members.Select(m => Participant(m.Key, m.Value)).ToList(), phone);
        return Ok(Describe(group), notice);
    }

    public SimulatedWorldAnswer<IReadOnlyList<EngineParticipantOutcome>> UpdateParticipants(string phone, string jid, string action,
        IReadOnlyList<SimulatedParticipantRef> participants)
    {
        if (Member(phone, jid, out var group) is { } missing)
            return Fail<IReadOnlyList<EngineParticipantOutcome>>(missing);
        if (!group!.IsAdmin(phone))
            return NotAdmin<IReadOnlyList<EngineParticipantOutcome>>(group, "change its participants");
        var outcomes = new List<EngineParticipantOutcome>(participants.Count);
        var changed = new List<EngineGroupParticipant>();
        var removed = new List<string>();
        foreach (var (asked, target) in participants)
        {
            var member = target is not null && group.Members.ContainsKey(target);
            var role = member ? group.Members[target!] : null;
            string status;
            string? detail = null;
            if (target is null || (!member && !IsOnWhatsApp(target)))
            {
                status = action == GroupParticipantActions.Add ? GroupParticipantStatuses.NotOnWhatsApp : GroupParticipantStatuses.NotMember;
                detail = target is null ? $"{asked} is not a number or LID this account knows." : $"{asked} is not on WhatsApp.";
            }
            else if (action == GroupParticipantActions.Add)
            {
                if (member)
                    status = GroupParticipantStatuses.AlreadyMember;
                else if (InviteOnly(target))
                {
                    status = GroupParticipantStatuses.InviteSent;
                    detail = $"{asked}'s privacy settings do not allow adding them to groups: WhatsApp sent them an invite to join instead.";
                }
                else
                {
                    group.Members[target] = null;
                    status = GroupParticipantStatuses.Added;
                    changed.Add(Participant(target, null));
                }
            }
            else if (!member)
                status = GroupParticipantStatuses.NotMember;
            else if (role == GroupRoles.SuperAdmin && action is GroupParticipantActions.Remove or GroupParticipantActions.Demote)
            {
                status = GroupParticipantStatuses.Refused;
                detail = $"{asked} created the group: nobody can remove or demote its creator.";
            }
            else
            {
                switch (action)
                {
                    case GroupParticipantActions.Remove:
                        group.Members.Remove(target);
                        removed.Add(target);
                        status = GroupParticipantStatuses.Removed;
                        changed.Add(Participant(target, null));
                        break;
                    case GroupParticipantActions.Promote:
                        group.Members[target] = role ?? GroupRoles.Admin;
                        status = GroupParticipantStatuses.Promoted;
                        changed.Add(Participant(target, group.Members[target]));
                        break;
                    default:
                        group.Members[target] = null;
                        status = GroupParticipantStatuses.Demoted;
                        changed.Add(Participant(target, null));
                        break;
                }
            }
            outcomes.Add(new EngineParticipantOutcome(asked, status, detail));
        }
        var notices = changed.Count == 0 ? [] : new[] { Notice(group, action, changed, phone, removed) };
        return new SimulatedWorldAnswer<IReadOnlyList<EngineParticipantOutcome>>(outcomes, notices);
    }

    public SimulatedWorldAnswer<bool> Update(string phone, string jid, EngineGroupChange change)
    {
        if (Member(phone, jid, out var group) is { } missing)
            return Fail<bool>(missing);
        if (change.IsEmpty)
            return Ok(true);
        // Settings are the admins' own; with "restrict" on, so are the subject and the description.
        if ((change.Announce is not null || change.Restrict is not null || group!.Restrict) && !group!.IsAdmin(phone))
            return NotAdmin<bool>(group!, change.Announce is not null || change.Restrict is not null ? "change its settings" : "edit its info");
        if (change.Subject is not null && SubjectProblem(change.Subject) is { } problem)
            return problem.As<bool>();
        if (change.Subject is not null) group.Subject = change.Subject.Trim();
        if (change.Description is not null) group.Description = change.Description.Length == 0 ? null : change.Description;
        if (change.Announce is { } announce) group.Announce = announce;
        if (change.Restrict is { } restrict) group.Restrict = restrict;
        return Ok(true, new SimulatedGroupNotice([.. group.Members.Keys], jid, null, null, change, phone));
    }

    public SimulatedWorldAnswer<string> InviteCode(string phone, string jid, bool revoke)
    {
        if (Member(phone, jid, out var group) is { } missing)
            return Fail<string>(missing);
        if (!group!.IsAdmin(phone))
            return NotAdmin<string>(group, revoke ? "revoke its invite link" : "see its invite link");
        if (revoke && group.InviteCode is { } old)
        {
            _invites.Remove(old);
            group.InviteCode = null;
        }
        if (group.InviteCode is null)
        {
            string code;
            do code = string.Concat(Enumerable.Range(0, 22).Select(_ => InviteAlphabet[RandomNumberGenerator.GetInt32(InviteAlphabet.Length)]));
            while (_invites.ContainsKey(code));
            group.InviteCode = code;
            _invites[code] = jid;
        }
        return Ok(group.InviteCode);
    }

    public SimulatedWorldAnswer<string> Join(string phone, string code)
    {
        if (!_invites.TryGetValue(code, out var jid) || !_groups.TryGetValue(jid, out var group))
            return new(null, [], true, "invite_not_found", "The invite link is unknown or was revoked; ask a group admin for a new one.");
        if (group.Members.ContainsKey(phone))
            return Ok(jid);
        group.Members[phone] = null;
        return Ok(jid, Notice(group, GroupParticipantActions.Add, [Participant(phone, null)], phone));
    }

    public SimulatedWorldAnswer<bool> Leave(string phone, string jid)
    {
        if (Member(phone, jid, out var group) is { } missing)
            return Fail<bool>(missing);
        group!.Members.Remove(phone);
        var notices = new List<SimulatedGroupNotice> { Notice(group, "leave", [Participant(phone, null)], phone, [phone]) };
        if (group.Members.Count == 0)
        {
            _groups.Remove(jid);
            if (group.InviteCode is { } code) _invites.Remove(code);
        }
        else if (!group.Members.Values.Any(role => role is not null))
        {
            // As WhatsApp does when the last admin leaves: the longest-standing member becomes an admin.
            var heir = group.Members.GetAt(0).Key;
            group.Members[heir] = GroupRoles.Admin;
            notices.Add(Notice(group, GroupParticipantActions.Promote, [Participant(heir, GroupRoles.Admin)], null));
        }
        return new SimulatedWorldAnswer<bool>(true, notices);
    }

    /// <summary>Whether <paramref name="phone"/> may post in <paramref name="jid"/>, and who else is in it; null for a group this world does not hold.</summary>
    public SimulatedGroupPost? Post(string phone, string jid)
    {
        if (!_groups.TryGetValue(jid, out var group))
            return null;
        if (!group.Members.ContainsKey(phone))
            return new SimulatedGroupPost(true, [], "not_group_member", $"{phone} is not a member of the group {jid}.");
        if (group.Announce && !group.IsAdmin(phone))
            return new SimulatedGroupPost(true, [], "not_group_admin", $"Only admins can send messages to the group {jid}.");
        return new SimulatedGroupPost(true, group.Members.Keys.Where(m => m != phone).ToList());
    }

    private string? Member(string phone, string jid, out Group? group)
    {
        if (_groups.TryGetValue(jid, out group) && group.Members.ContainsKey(phone))
            return null;
        group = null;
        return $"{jid} is not a group this account is in.";
    }

    private static SimulatedWorldAnswer<T> Fail<T>(string message) => new(default, [], true, "group_not_found", message);

    private static SimulatedWorldAnswer<T> NotAdmin<T>(Group group, string what) =>
        new(default, [], false, "not_group_admin", $"Only admins of the group {group.Jid} can {what}.");

    private static Problem? SubjectProblem(string subject) => string.IsNullOrWhiteSpace(subject)
        ? new Problem("subject_required", "A group needs a subject.")
        : subject.Trim().Length > MaxSubject ? new Problem("subject_too_long", $"A group subject has at most {MaxSubject} characters.") : null;

    private sealed record Problem(string Code, string Message)
    {
        public SimulatedWorldAnswer<T> As<T>() => new(default, [], false, Code, Message);
    }

    private static SimulatedWorldAnswer<T> Ok<T>(T value, params SimulatedGroupNotice[] notices) => new(value, notices);

    private static SimulatedGroupNotice Notice(Group group, string action, IReadOnlyList<EngineGroupParticipant> participants, string? by, IEnumerable<string>? alsoTell = null) =>
        new([.. group.Members.Keys.Concat(alsoTell ?? []).Distinct()], group.Jid, action, participants, null, by);

    private EngineGroupParticipant Participant(string phone, string? role) => new(phone, SimulatedIdentities.LidOf(customerId, phone), role);

    private EngineGroup Describe(Group group) => new(group.Jid, group.Subject, group.Description, group.Owner, SimulatedIdentities.LidOf(customerId, group.Owner),
        group.Members.Select(m => Participant(m.Key, m.Value)).ToList(), group.Announce, group.Restrict, group.CreatedAt);

    private bool IsOnWhatsApp(string phone) => !Matches(ref _notOnWhatsApp, options.NotOnWhatsAppPattern, phone);

    private bool InviteOnly(string phone) => Matches(ref _inviteOnly, options.InviteOnlyPattern, phone);

    private static bool Matches(ref Regex? regex, string? pattern, string phone)
    {
        if (string.IsNullOrEmpty(pattern))
            return false;
        regex ??= new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        return regex.IsMatch(phone);
    }

    private static string RandomDigits(int count) => string.Concat(Enumerable.Range(0, count).Select(_ => (char)('0' + RandomNumberGenerator.GetInt32(10))));
}
