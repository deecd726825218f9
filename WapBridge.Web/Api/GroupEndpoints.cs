using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Groups;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record ListGroupsArgs(string? InstanceId, string? FromNumber, int? Limit, int? Offset);

public sealed record GroupArgs([FrappeRequired] string? GroupId, string? InstanceId, string? FromNumber);

public sealed record CreateGroupArgs([FrappeRequired] string? Subject, List<string?>? Participants, string? InstanceId, string? FromNumber);

public sealed record UpdateParticipantsArgs([FrappeRequired] string? GroupId, [FrappeRequired] string? Action, [FrappeRequired] List<string?>? Participants,
    string? InstanceId, string? FromNumber);

public sealed record UpdateGroupArgs([FrappeRequired] string? GroupId, string? Subject, string? Description, bool? Announce, bool? Restrict,
    string? InstanceId, string? FromNumber);

public sealed record JoinGroupArgs([FrappeRequired] string? Link, string? InstanceId, string? FromNumber);

/// <summary>An invite link: <c>https://chat.whatsapp.com/&lt;code&gt;</c>.</summary>
public sealed record InviteLink(string Link);

/// <summary>Contract §9 "Groups", through the instance's actor; each answer also refreshes the instance's group cache.</summary>
public static class GroupEndpoints
{
    private const string Prefix = "wap_bridge.api.groups.";

    public static void MapGroupEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<ListGroupsArgs, PagedList<GroupInfo>>(Prefix + "list_groups", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The groups the instance is in, asked from WhatsApp, by subject: {data: [group], total, limit, offset}",
            async (args, call) =>
            {
                var paging = Paging.From(args.Limit, args.Offset);
                var groups = await Groups(call).ListGroupsAsync(call.CustomerId, args.InstanceId, args.FromNumber, call.Aborted);
                return new PagedList<GroupInfo>(groups.Skip(paging.Offset).Take(paging.Limit).ToList(), groups.Count, paging.Limit, paging.Offset);
            });

        api.MapFrappeMethod<GroupArgs, GroupInfo>(Prefix + "get_group", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "A group the instance is in: {group_id, subject, description, owner, participants: [{number, lid, admin}], announce, restrict, size, our_role, instance_id}",
            (args, call) => Groups(call).GetGroupAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.GroupId, call.Aborted));

        api.MapFrappeMethod<CreateGroupArgs, GroupInfo>(Prefix + "create_group", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            $"Create a group (subject 1 to {GroupDirectory.MaxSubjectLength} characters) with the instance as its admin; answers the group as get_group",
            (args, call) => Groups(call).CreateGroupAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.Subject, args.Participants, call.Aborted));

        api.MapFrappeMethod<UpdateParticipantsArgs, IReadOnlyList<ParticipantOutcome>>(Prefix + "update_participants", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Add, remove, promote or demote participants (numbers or <digits>@lid): [{number, status, detail}] per participant; "
            + "status invite_sent means WhatsApp refused the add for the person's privacy settings and sent them an invite",
            (args, call) => Groups(call).UpdateParticipantsAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.GroupId, args.Action, args.Participants,
                call.Aborted));

        api.MapFrappeMethod<UpdateGroupArgs, OkResult>(Prefix + "update_group", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Change a group's subject, description, announce (only admins write) or restrict (only admins edit its info); answers {ok}",
            async (args, call) =>
            {
                await Groups(call).UpdateGroupAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.GroupId,
                    new EngineGroupChange(args.Subject, args.Description, args.Announce, args.Restrict), call.Aborted);
                return new OkResult(true);
            });

        api.MapFrappeMethod<GroupArgs, InviteLink>(Prefix + "get_invite_link", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The group's invite link: {link}",
            async (args, call) => new InviteLink(await Groups(call).GetInviteLinkAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.GroupId, call.Aborted)));

        api.MapFrappeMethod<GroupArgs, InviteLink>(Prefix + "revoke_invite_link", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Void the group's invite link and answer the new one: {link}",
            async (args, call) => new InviteLink(await Groups(call).RevokeInviteLinkAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.GroupId, call.Aborted)));

        api.MapFrappeMethod<JoinGroupArgs, GroupInfo>(Prefix + "join_group", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Join a group by its invite link (https://chat.whatsapp.com/<code>) or code; answers the group as get_group",
            (args, call) => Groups(call).JoinGroupAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.Link, call.Aborted));

        api.MapFrappeMethod<GroupArgs, OkResult>(Prefix + "leave_group", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Leave a group; answers {ok}",
            async (args, call) =>
            {
                await Groups(call).LeaveGroupAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.GroupId, call.Aborted);
                return new OkResult(true);
            });
    }

    private static GroupDirectory Groups(FrappeCall call) => call.Service<GroupDirectory>();
}
