using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Groups;
using WapBridge.Core.Live;
using WapBridge.Web.Components.Pages.Campaigns;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Instances;

/// <summary>
/// The groups of one instance through <see cref="GroupDirectory"/>: the cached list on show and whenever the instance's
/// live topic changes (group events update the cache and announce it there), WhatsApp itself only when the user asks.
/// Its failures are shown here, next to the action that failed, not in the detail's alert.
/// </summary>
public sealed partial class InstanceGroups : IDisposable
{
    private static readonly DialogOptions CreateOptions = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseButton = true };

    private static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["subject"] = "Subject", ["participants"] = "Participants", ["group_id"] = "Group", ["instance_id"] = "Instance",
    };

    private static readonly IReadOnlyDictionary<string, string> AddLabels = new Dictionary<string, string>
    {
        ["participants"] = "Participants to add", ["group_id"] = "Group", ["instance_id"] = "Instance",
    };

    [Inject] private GroupDirectory Groups { get; set; } = default!;
    [Inject] private LiveChanges Live { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    private IReadOnlyList<GroupInfo>? groups;
    private string? loadedFor;
    private string? error;
    private bool working;
    private LiveSubscription? live;
    private bool disposed;

    private readonly Dictionary<string, string> inviteLinks = [];
    private readonly Dictionary<string, IReadOnlyList<ParticipantOutcome>> outcomes = [];
    private string? addingTo;
    private string? addNumbers;

    private bool createOpen;
    private string? newSubject;
    private string? newParticipants;
    private (string? Field, string Text)? createError;

    private string HeadingId => "groups-" + InstanceId;

    protected override void OnInitialized()
    {
        // Only a live circuit listens: a prerender is thrown away and would never unsubscribe.
        if (RendererInfo.IsInteractive)
            live = Live.Subscribe(LiveInterest.ForCustomer(CustomerId, LiveTopics.Instance), OnLiveChangesAsync);
    }

    protected override async Task OnParametersSetAsync()
    {
        if (loadedFor == InstanceId)
            return;
        loadedFor = InstanceId;
        groups = null;
        inviteLinks.Clear();
        outcomes.Clear();
        addingTo = null;
        await LoadAsync();
    }

    private Task OnLiveChangesAsync(IReadOnlyCollection<LiveChange> changes) =>
        changes.Any(c => c.Subject is null || string.Equals(c.Subject, InstanceId, StringComparison.OrdinalIgnoreCase))
            ? InvokeAsync(async () =>
            {
                await LoadAsync();
                if (!disposed)
                    StateHasChanged();
            })
            : Task.CompletedTask;

    /// <summary>The cached groups: no call to WhatsApp.</summary>
    private async Task LoadAsync()
    {
        if (disposed)
            return;
        var code = InstanceId;
        try
        {
            var cached = await Groups.CachedGroupsAsync(CustomerId, code);
            if (code == InstanceId)
                groups = cached;
        }
        catch (WapBridgeException e)
        {
            groups ??= [];
            error = Plain(e, Labels);
        }
    }

    private async Task AttemptAsync(Func<Task> action, IReadOnlyDictionary<string, string> labels)
    {
        if (working)
            return;
        working = true;
        error = null;
        try
        {
            await action();
        }
        catch (WapBridgeException e)
        {
            error = Plain(e, labels);
        }
        finally
        {
            working = false;
        }
    }

    private Task RefreshAsync() => AttemptAsync(async () =>
    {
        groups = await Groups.ListGroupsAsync(CustomerId, InstanceId, null);
        Snackbar.Add(groups.Count == 1 ? "1 group read from WhatsApp" : $"{groups.Count} groups read from WhatsApp", Severity.Success);
    }, Labels);

    private void OpenCreate()
    {
        newSubject = null;
        newParticipants = null;
        createError = null;
        createOpen = true;
    }

    private async Task CreateAsync()
    {
        if (working)
            return;
        working = true;
        createError = null;
        try
        {
            var asked = Pasted(newParticipants);
            var created = await Groups.CreateGroupAsync(CustomerId, InstanceId, null, newSubject, [.. asked]);
            createOpen = false;
            // Ourselves included: anyone WhatsApp refused is left out of a new group.
            var left = asked.Count - (created.Size - 1);
            Snackbar.Add(left > 0
                ? $"Group {created.Subject} created with {Members(created.Size)}; WhatsApp left out {left} of the participants: add them again to see why"
                : $"Group {created.Subject} created with {Members(created.Size)}", left > 0 ? Severity.Warning : Severity.Success);
            await LoadAsync();
        }
        catch (WapBridgeException e)
        {
            createError = (e.Field, Plain(e, Labels));
        }
        finally
        {
            working = false;
        }
    }

    private Task CopyInviteAsync(GroupInfo group) => AttemptAsync(async () =>
    {
        var link = await Groups.GetInviteLinkAsync(CustomerId, InstanceId, null, group.GroupId);
        // Shown as well as copied: the clipboard needs a permission (and https off localhost) that not every browser gives.
        inviteLinks[group.GroupId] = link;
        bool copied;
        try
        {
            copied = await JS.InvokeAsync<bool>("wapbridge.copy", link);
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or TaskCanceledException or InvalidOperationException)
        {
            copied = false;
        }
        if (copied)
            Snackbar.Add($"Invite link of {group.Subject} copied", Severity.Success);
        else
            Snackbar.Add("Could not copy the invite link: select it below and copy it by hand.", Severity.Warning);
    }, Labels);

    private void OpenAdd(GroupInfo group)
    {
        addingTo = group.GroupId;
        addNumbers = null;
        outcomes.Remove(group.GroupId);
    }

    private Task AddAsync(GroupInfo group) => AttemptAsync(async () =>
    {
        var numbers = Pasted(addNumbers);
        if (numbers.Count == 0)
            throw WapBridgeException.Missing("participants");
        outcomes[group.GroupId] = await Groups.UpdateParticipantsAsync(CustomerId, InstanceId, null, group.GroupId, GroupParticipantActions.Add, [.. numbers]);
        addingTo = null;
        await LoadAsync();
    }, AddLabels);

    private const string NotConnected = "This instance is not connected, so WhatsApp cannot be asked. Connect it (see its state above), then try again.";

    private static string Plain(WapBridgeException e, IReadOnlyDictionary<string, string> labels) =>
        DashboardErrors.IsNotConnected(e) ? NotConnected : DashboardErrors.Describe(e, labels);

    private static List<string> Pasted(string? text) => [.. CampaignCsv.ParseLines(text).Select(r => r.Cells[0])];

    private static bool IsAdmin(GroupInfo g) => g.OurRole is GroupRoles.Admin or GroupRoles.SuperAdmin;

    private string ChatHref(GroupInfo g) => $"/chats/{Uri.EscapeDataString(InstanceId)}/{Uri.EscapeDataString(g.GroupId)}";

    public static string Members(int size) => size == 1 ? "1 member" : $"{size} members";

    public static string RoleLabel(string? role) => role switch
    {
        GroupRoles.SuperAdmin => "Super admin",
        GroupRoles.Admin => "Admin",
        null => "Member",
        _ => role,
    };

    /// <summary>A participant as people write them: +digits for a number, the LID when WhatsApp hides the number.</summary>
    public static string ParticipantLabel(string participant) =>
        participant.EndsWith("@lid", StringComparison.Ordinal) ? "LID " + participant[..^4]
        : participant.All(char.IsAsciiDigit) ? "+" + participant
        : participant;

    /// <summary>What happened to one participant, in words; WhatsApp's own detail added where it says more.</summary>
    public static string OutcomeText(ParticipantOutcome o)
    {
        var text = o.Status switch
        {
            GroupParticipantStatuses.Added => "added",
            GroupParticipantStatuses.Removed => "removed",
            GroupParticipantStatuses.Promoted => "made an admin",
            GroupParticipantStatuses.Demoted => "no longer an admin",
            GroupParticipantStatuses.InviteSent => "WhatsApp refused the add because of their privacy settings and sent them an invite",
            GroupParticipantStatuses.AlreadyMember => "already in the group",
            GroupParticipantStatuses.NotMember => "not in the group",
            GroupParticipantStatuses.NotOnWhatsApp => "not on WhatsApp, so they cannot be added",
            GroupParticipantStatuses.RecentlyLeft => "left the group recently: WhatsApp does not let them be added back yet",
            GroupParticipantStatuses.Refused => "WhatsApp refused",
            GroupParticipantStatuses.Failed => "failed",
            _ => o.Status,
        };
        return string.IsNullOrWhiteSpace(o.Detail) || o.Status is GroupParticipantStatuses.Added or GroupParticipantStatuses.InviteSent
            ? text : $"{text} ({o.Detail.Trim()})";
    }

    public void Dispose()
    {
        disposed = true;
        live?.Dispose();
    }
}
