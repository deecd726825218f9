using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Groups;

/// <summary>A group member as the API shows it: phone digits when known, <c>&lt;digits&gt;@lid</c> when known, role or null.</summary>
public sealed record GroupMember(string? Number, string? Lid, string? Admin);

/// <summary>A group as <c>groups.get_group</c> answers it; <see cref="InstanceId"/> is the instance's public code.</summary>
public sealed record GroupInfo(string GroupId, string Subject, string? Description, string? Owner, IReadOnlyList<GroupMember> Participants,
    bool Announce, bool Restrict, int Size, string? OurRole, string InstanceId);

/// <summary>One participant's outcome of <c>groups.update_participants</c>: as asked (digits or <c>…@lid</c>), a <see cref="GroupParticipantStatuses"/> value.</summary>
public sealed record ParticipantOutcome(string Number, string Status, string? Detail);

/// <summary>
/// Contract §9 "Groups" through the instance's actor, keeping <see cref="CachedGroup"/> up to date with what WhatsApp
/// answers (the dashboard reads only the cache). Another customer's instance, or a group the instance is not in, is a 404.
/// </summary>
public sealed partial class GroupDirectory(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    MessageService messages,
    GroupCache cache,
    IGrainFactory grains,
    ILogger<GroupDirectory> logger)
{
    public const int MaxSubjectLength = 100;
    public const int MaxDescriptionLength = 2048;
    public const int MaxParticipantsPerCall = 1024;
    public const string InviteLinkPrefix = "https://chat.whatsapp.com/";

    public async Task<IReadOnlyList<GroupInfo>> ListGroupsAsync(int customerId, string? instanceCode, string? fromNumber, CancellationToken ct = default)
    {
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);
        return await cache.ReplaceAllAsync(instance, await Grain(instance).ListGroupsAsync(), ct);
    }

    /// <summary>The groups the instance is in as last read from WhatsApp: the cache only, no engine call.</summary>
    public async Task<IReadOnlyList<GroupInfo>> CachedGroupsAsync(int customerId, string instanceCode, CancellationToken ct = default)
    {
        var instance = await messages.FindInstanceAsync(customerId, instanceCode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.CachedGroups.AsNoTracking().Where(g => g.InstanceId == instance.Id && !g.Left).ToListAsync(ct);
        return rows.OrderBy(g => g.Subject, StringComparer.CurrentCultureIgnoreCase).ThenBy(g => g.GroupJid, StringComparer.Ordinal)
            .Select(g => GroupCache.InfoOf(g, instance.Code)).ToList();
    }

    public async Task<GroupInfo> GetGroupAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId, CancellationToken ct = default)
    {
        var (instance, jid) = await GroupOfAsync(customerId, instanceCode, fromNumber, groupId, ct);
        return await RefreshAsync(instance, jid, ct);
    }

    public async Task<GroupInfo> CreateGroupAsync(int customerId, string? instanceCode, string? fromNumber, string? subject,
        IReadOnlyList<string?>? participants, CancellationToken ct = default)
    {
        var title = Subject(subject) ?? throw WapBridgeException.Missing("subject");
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);
        var members = Participants(participants ?? [], instance, allowEmpty: true);
        return await cache.UpsertAsync(instance, await Grain(instance).CreateGroupAsync(title, members), ct);
    }

    public async Task<IReadOnlyList<ParticipantOutcome>> UpdateParticipantsAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId,
        string? action, IReadOnlyList<string?>? participants, CancellationToken ct = default)
    {
        var verb = string.IsNullOrWhiteSpace(action) ? throw WapBridgeException.Missing("action") : action.Trim().ToLowerInvariant();
        if (!GroupParticipantActions.All.Contains(verb))
            throw WapBridgeException.Invalid("action", "invalid_action", $"action must be one of {string.Join(", ", GroupParticipantActions.All)}");
        var (instance, jid) = await GroupOfAsync(customerId, instanceCode, fromNumber, groupId, ct);
        var members = Participants(participants, instance, allowEmpty: false);
        var outcomes = await CallAsync(() => Grain(instance).UpdateGroupParticipantsAsync(jid, verb, members), jid);
        await RefreshQuietlyAsync(instance, jid, ct);
        return outcomes.Select(o => new ParticipantOutcome(o.Participant, o.Status, o.Detail)).ToList();
    }

    public async Task UpdateGroupAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId, EngineGroupChange change,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.IsEmpty)
            throw WapBridgeException.Invalid("subject", "missing_argument",
                "Nothing to change: give at least one of subject, description, announce or restrict");
        var clean = change with
        {
            Subject = change.Subject is null ? null : Subject(change.Subject) ?? throw Invalid("subject", "cannot be empty"),
            Description = change.Description?.Trim() is { Length: > MaxDescriptionLength }
                ? throw Invalid("description", $"is longer than {MaxDescriptionLength} characters")
                : change.Description?.Trim(),
        };
        var (instance, jid) = await GroupOfAsync(customerId, instanceCode, fromNumber, groupId, ct);
        await CallAsync(async () =>
        {
            await Grain(instance).UpdateGroupAsync(jid, clean);
            return true;
        }, jid);
        await cache.PatchAsync(instance, jid, row => GroupCache.Apply(row, clean), ct);
    }

    public async Task<string> GetInviteLinkAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId, CancellationToken ct = default)
    {
        var (instance, jid) = await GroupOfAsync(customerId, instanceCode, fromNumber, groupId, ct);
        return InviteLinkPrefix + await CallAsync(() => Grain(instance).GetGroupInviteCodeAsync(jid), jid);
    }

    public async Task<string> RevokeInviteLinkAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId, CancellationToken ct = default)
    {
        var (instance, jid) = await GroupOfAsync(customerId, instanceCode, fromNumber, groupId, ct);
        return InviteLinkPrefix + await CallAsync(() => Grain(instance).RevokeGroupInviteCodeAsync(jid), jid);
    }

    /// <summary>Joins by an invite link (<c>https://chat.whatsapp.com/&lt;code&gt;</c>) or its bare code.</summary>
    public async Task<GroupInfo> JoinGroupAsync(int customerId, string? instanceCode, string? fromNumber, string? link, CancellationToken ct = default)
    {
        var code = InviteCode(link);
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);
        string jid;
        try
        {
            jid = await Grain(instance).JoinGroupAsync(code);
        }
        catch (WapBridgeException e) when (e is { Kind: ErrorKind.NotFound, Field: null })
        {
            throw new WapBridgeException(ErrorKind.NotFound, e.Code,
                $"No group has the invite code {code}: the link was revoked or mistyped; ask the group's admin for a new link", "link");
        }
        return await RefreshAsync(instance, jid, ct);
    }

    public async Task LeaveGroupAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId, CancellationToken ct = default)
    {
        var (instance, jid) = await GroupOfAsync(customerId, instanceCode, fromNumber, groupId, ct);
        await CallAsync(async () =>
        {
            await Grain(instance).LeaveGroupAsync(jid);
            return true;
        }, jid);
        await cache.MarkLeftAsync(instance.Id, jid, ct);
    }

    /// <summary>The invite code of a link or a bare code; a 417 naming <c>link</c> for anything else.</summary>
    public static string InviteCode(string? link)
    {
        if (string.IsNullOrWhiteSpace(link))
            throw WapBridgeException.Missing("link");
        var match = InviteLinkPattern().Match(link.Trim());
        return match.Success
            ? match.Groups["code"].Value
            : throw WapBridgeException.Invalid("link", "invalid_invite_link",
                $"link is not a WhatsApp group invite: '{link}'; give the link as WhatsApp shares it (https://chat.whatsapp.com/<code>) or its code");
    }

    [GeneratedRegex(@"^(?:(?:https?://)?chat\.whatsapp\.com/(?:invite/)?)?(?<code>[A-Za-z0-9]{6,64})/?(?:[?#].*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex InviteLinkPattern();

    private IInstanceGrain Grain(Instance instance) => grains.GetGrain<IInstanceGrain>(instance.Code);

    /// <summary>Reads the group from WhatsApp and refreshes the cache; a group the instance is no longer in is marked left.</summary>
    private async Task<GroupInfo> RefreshAsync(Instance instance, string jid, CancellationToken ct)
    {
        EngineGroup group;
        try
        {
            group = await Grain(instance).GetGroupAsync(jid);
        }
        catch (WapBridgeException e) when (e is { Kind: ErrorKind.NotFound, Field: null })
        {
            await cache.MarkLeftAsync(instance.Id, jid, ct);
            throw NotInGroup(instance, jid, e.Code);
        }
        return await cache.UpsertAsync(instance, group, ct);
    }

    /// <summary>After a change WhatsApp accepted: the cache follows, but the caller's answer does not depend on it.</summary>
    private async Task RefreshQuietlyAsync(Instance instance, string jid, CancellationToken ct)
    {
        try
        {
            await RefreshAsync(instance, jid, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Refreshing group {Group} of instance {Instance} after a change failed: {Error}", jid, instance.Code, e.Message);
        }
    }

    /// <summary>An actor call about <paramref name="jid"/>: the engine's "no such group" named as <c>group_id</c>.</summary>
    private static async Task<T> CallAsync<T>(Func<Task<T>> call, string jid)
    {
        try
        {
            return await call();
        }
        catch (WapBridgeException e) when (e is { Kind: ErrorKind.NotFound, Field: null })
        {
            throw new WapBridgeException(ErrorKind.NotFound, e.Code,
                $"Group {jid} not found: the instance is not in it; list its groups with groups.list_groups", "group_id");
        }
    }

    private static WapBridgeException NotInGroup(Instance instance, string jid, string code) =>
        new(ErrorKind.NotFound, code, $"Group {jid} not found: instance {instance.Code} is not in it; list its groups with groups.list_groups", "group_id");

    private async Task<(Instance Instance, string Jid)> GroupOfAsync(int customerId, string? instanceCode, string? fromNumber, string? groupId, CancellationToken ct)
    {
        var jid = GroupId(groupId);
        return (await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct), jid);
    }

    /// <summary>A group id as WhatsApp writes it (<c>&lt;digits&gt;-&lt;digits&gt;@g.us</c> or <c>&lt;digits&gt;@g.us</c>), lower-cased.</summary>
    public static string GroupId(string? groupId)
    {
        if (string.IsNullOrWhiteSpace(groupId))
            throw WapBridgeException.Missing("group_id");
        var jid = groupId.Trim().ToLowerInvariant();
        return WhatsAppNumbers.IsGroupId(jid) ? jid
            : throw WapBridgeException.Invalid("group_id", "invalid_group_id",
                $"group_id is not a group id: '{groupId}'; write it as WhatsApp does, e.g. 120363041234567890@g.us (groups.list_groups shows them)");
    }

    private static string? Subject(string? subject)
    {
        var title = subject?.Trim();
        if (string.IsNullOrEmpty(title))
            return null;
        return title.Length > MaxSubjectLength ? throw Invalid("subject", $"is {title.Length} characters long; WhatsApp allows 1 to {MaxSubjectLength}") : title;
    }

    private static WapBridgeException Invalid(string field, string why) => WapBridgeException.Invalid(field, "invalid_" + field, $"{field} {why}");

    /// <summary>Participants as the engine takes them: phone digits (normalized with the instance's country) or <c>&lt;digits&gt;@lid</c>.</summary>
    private static List<string> Participants(IReadOnlyList<string?>? participants, Instance instance, bool allowEmpty)
    {
        if (participants is null || (participants.Count == 0 && !allowEmpty))
            throw WapBridgeException.Missing("participants");
        if (participants.Count > MaxParticipantsPerCall)
            throw WapBridgeException.Invalid("participants", "too_many_participants", $"participants has {participants.Count} entries; give at most {MaxParticipantsPerCall}");
        var result = new List<string>(participants.Count);
        for (var i = 0; i < participants.Count; i++)
        {
            var entry = participants[i]?.Trim();
            if (entry is not null && entry.EndsWith("@lid", StringComparison.OrdinalIgnoreCase))
            {
                var user = NumberCheckCache.LidUser(entry);
                result.Add(user is not null ? user + "@lid"
                    : throw WapBridgeException.Invalid("participants", "invalid_participant",
                        $"participants[{i}] is not a LID: '{participants[i]}'; write LIDs as <digits>@lid"));
                continue;
            }
            try
            {
                result.Add(WhatsAppNumbers.Normalize(entry, "participants", instance.DefaultCountry));
            }
            catch (WapBridgeException e)
            {
                throw WapBridgeException.Invalid("participants", e.Code,
                    string.IsNullOrEmpty(entry) ? $"participants[{i}] is empty; give a phone number or a <digits>@lid"
                        : $"participants[{i}]{e.Message["participants".Length..]}");
            }
        }
        return result.Distinct(StringComparer.Ordinal).ToList();
    }
}
