namespace WapBridge.Core.Engines;

/// <summary>
/// A WhatsApp user as the engine knows them (contract §9 <c>contacts.get_profile</c>): any part may be unknown, and
/// <see cref="PictureUrl"/> is WhatsApp's own short-lived link.
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.engine-profile")]
public sealed record EngineProfile(
    [property: Id(0)] string? Phone,
    [property: Id(1)] string? Lid,
    [property: Id(2)] string? PushName,
    [property: Id(3)] string? About,
    [property: Id(4)] string? PictureUrl);

/// <summary>Group roles as WhatsApp names them; null is an ordinary member.</summary>
public static class GroupRoles
{
    public const string SuperAdmin = "superadmin";
    public const string Admin = "admin";
}

/// <summary>
/// A member of a group: <see cref="Phone"/> (digits) when known, <see cref="Lid"/> (user part, digits) when WhatsApp
/// hides the number; <see cref="Admin"/> is a <see cref="GroupRoles"/> value or null.
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.group-participant")]
public sealed record EngineGroupParticipant(
    [property: Id(0)] string? Phone,
    [property: Id(1)] string? Lid,
    [property: Id(2)] string? Admin);

/// <summary>A group's metadata as WhatsApp holds it; <see cref="GroupJid"/> is <c>…@g.us</c>.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.group")]
public sealed record EngineGroup(
    [property: Id(0)] string GroupJid,
    [property: Id(1)] string Subject,
    [property: Id(2)] string? Description,
    [property: Id(3)] string? OwnerPhone,
    [property: Id(4)] string? OwnerLid,
    [property: Id(5)] IReadOnlyList<EngineGroupParticipant> Participants,
    [property: Id(6)] bool Announce,
    [property: Id(7)] bool Restrict,
    [property: Id(8)] DateTimeOffset? CreatedAt);

/// <summary>What <c>groups.update_participants</c> does to each participant.</summary>
public static class GroupParticipantActions
{
    public const string Add = "add";
    public const string Remove = "remove";
    public const string Promote = "promote";
    public const string Demote = "demote";

    public static readonly IReadOnlyList<string> All = [Add, Remove, Promote, Demote];
}

/// <summary>
/// How a participant came out of <c>groups.update_participants</c> (the per-participant <c>status</c> of contract §9).
/// WhatsApp refuses some adds because of the person's privacy settings and sends them an invite instead:
/// <see cref="InviteSent"/> says so.
/// </summary>
public static class GroupParticipantStatuses
{
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Promoted = "promoted";
    public const string Demoted = "demoted";
    public const string InviteSent = "invite_sent";
    public const string AlreadyMember = "already_member";
    public const string NotMember = "not_member";
    public const string NotOnWhatsApp = "not_on_whatsapp";
    public const string RecentlyLeft = "recently_left";
    public const string Refused = "refused";
    public const string Failed = "failed";
}

/// <summary>One participant's outcome: <see cref="Participant"/> as asked (digits, or <c>…@lid</c>); <see cref="Detail"/> in the user's words.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.participant-outcome")]
public sealed record EngineParticipantOutcome(
    [property: Id(0)] string Participant,
    [property: Id(1)] string Status,
    [property: Id(2)] string? Detail = null);

/// <summary>What <c>groups.update_group</c> changes; null leaves a setting as it is.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.group-change")]
public sealed record EngineGroupChange(
    [property: Id(0)] string? Subject = null,
    [property: Id(1)] string? Description = null,
    [property: Id(2)] bool? Announce = null,
    [property: Id(3)] bool? Restrict = null)
{
    public bool IsEmpty => Subject is null && Description is null && Announce is null && Restrict is null;
}

/// <summary>
/// What a session that can manage groups does (contract §9 "Groups"). A session implements this interface to opt in;
/// the instance actor answers 409 <c>EngineFeatureUnavailable</c> (<see cref="EngineFeatures.Groups"/>) for the others.
/// Participants are phone digits, or a LID written <c>&lt;digits&gt;@lid</c>. A group the account is not in throws
/// <see cref="EngineNotFoundException"/>; WhatsApp refusing (not an admin, …) throws <see cref="EngineRefusedException"/>.
/// </summary>
public interface IEngineGroups
{
    /// <summary>The groups the account is a member of, with their members.</summary>
    Task<IReadOnlyList<EngineGroup>> ListGroupsAsync(CancellationToken ct = default);

    Task<EngineGroup> GetGroupAsync(string groupJid, CancellationToken ct = default);

    /// <summary>Creates a group with the account as its super-admin; participants WhatsApp refuses are left out.</summary>
    Task<EngineGroup> CreateGroupAsync(string subject, IReadOnlyList<string> participants, CancellationToken ct = default);

    /// <summary>Applies <paramref name="action"/> (<see cref="GroupParticipantActions"/>) to each participant; one outcome per participant, in order.</summary>
    Task<IReadOnlyList<EngineParticipantOutcome>> UpdateParticipantsAsync(string groupJid, string action, IReadOnlyList<string> participants,
        CancellationToken ct = default);

    Task UpdateGroupAsync(string groupJid, EngineGroupChange change, CancellationToken ct = default);

    /// <summary>The group's invite code (the part after <c>https://chat.whatsapp.com/</c>).</summary>
    Task<string> GetInviteCodeAsync(string groupJid, CancellationToken ct = default);

    /// <summary>Voids the current invite code and answers the new one.</summary>
    Task<string> RevokeInviteCodeAsync(string groupJid, CancellationToken ct = default);

    /// <summary>Joins by invite code; answers the group's id.</summary>
    Task<string> JoinGroupAsync(string inviteCode, CancellationToken ct = default);

    Task LeaveGroupAsync(string groupJid, CancellationToken ct = default);
}
