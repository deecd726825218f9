using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;
using WapBridge.Core.Common;
using WapBridge.Core.Health;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Instances;

/// <summary>The health panel of one instance, given the <see cref="Core.Health.InstanceHealth"/> the page read.</summary>
public sealed partial class InstanceHealthScore : IDisposable
{
    private static readonly DialogOptions ConfirmOptions = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseButton = true };
    private static readonly int[] HourChoices = [1, 4, 12, ProtectionOverride.DefaultHours, 48, ProtectionOverride.MaxHours];

    [Inject] private InstanceHealthDashboard HealthDashboard { get; set; } = default!;
    [Inject] private IOptions<HealthOptions> Options { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    [Parameter, EditorRequired] public int CustomerId { get; set; }
    [Parameter, EditorRequired] public string InstanceId { get; set; } = "";
    [Parameter, EditorRequired] public Core.Health.InstanceHealth Health { get; set; } = default!;

    /// <summary>The zone the instance's days run in: its budget resets at midnight there.</summary>
    [Parameter, EditorRequired] public TimeZoneInfo Zone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>The health should be read again: after the override, or when the budget resets or an override or restriction ends.</summary>
    [Parameter] public EventCallback OnRefresh { get; set; }

    /// <summary>The override failed (its message), or started (null).</summary>
    [Parameter] public EventCallback<string?> OnError { get; set; }

    private bool confirmOpen;
    private bool busy;
    private int hours = ProtectionOverride.DefaultHours;
    private ITimer? boundary;
    private DateTimeOffset? boundaryAt;

    private string HeadingId => "health-" + InstanceId;

    private DateTimeOffset? ActiveRestriction => Health.RestrictedUntil is { } until && until > Time.GetUtcNow() ? until : null;

    private DateTimeOffset? ActiveOverride => Health.ProtectionOverrideUntil is { } until && until > Time.GetUtcNow() ? until : null;

    private string BudgetText
    {
        get
        {
            var budget = Health.Budget;
            var contacts = budget.UsedToday == 1 ? "1 new contact" : $"{budget.UsedToday} new contacts";
            return ActiveOverride is not null
                ? $"No new-contact limit while protection is overridden ({contacts} messaged today)."
                : $"{budget.LeftToday} of {budget.Allowance} new contacts left today.";
        }
    }

    private string WarmUpText => Health.Budget.WarmUpDay is { } day
        ? $"Warming up: day {day} of {Options.Value.EffectiveWarmUp.Length}."
        : "Warmed up.";

    private string ResetText
    {
        get
        {
            var resetsAt = Health.Budget.ResetsAt;
            var local = TimeZoneInfo.ConvertTime(resetsAt, Zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            return $"New contacts count again from {local} {Zone.Id} (midnight there, {DashboardFormat.Minute(resetsAt)}).";
        }
    }

    private static string LevelLabel(string level) => level switch
    {
        HealthLevels.Good => "Good",
        HealthLevels.Watch => "Watch",
        HealthLevels.Danger => "Danger",
        HealthLevels.Restricted => "Restricted",
        _ => level,
    };

    private static Color LevelColor(string level) => level switch
    {
        HealthLevels.Good => Color.Success,
        HealthLevels.Watch => Color.Warning,
        HealthLevels.Danger or HealthLevels.Restricted => Color.Error,
        _ => Color.Default,
    };

    private static string LevelIcon(string level) => level switch
    {
        HealthLevels.Good => Icons.Material.Filled.CheckCircle,
        HealthLevels.Watch => Icons.Material.Filled.Visibility,
        HealthLevels.Danger => Icons.Material.Filled.Warning,
        HealthLevels.Restricted => Icons.Material.Filled.Block,
        _ => Icons.Material.Filled.Help,
    };

    private static string LevelExplanation(string level) => level switch
    {
        HealthLevels.Good => "WhatsApp has shown nothing worrying about this number.",
        HealthLevels.Watch => "Some signals are worrying: message fewer new contacts and see the reasons below.",
        HealthLevels.Danger => "The number is at risk of a restriction or ban: its campaigns pause until the reasons below improve.",
        HealthLevels.Restricted => "WhatsApp restricts or bans this number now: sends to new contacts wait until it ends.",
        _ => level,
    };

    protected override void OnParametersSet()
    {
        // A clock, not a poll: the budget resets, an override or a restriction ends at known times; then the page reads again.
        var now = Time.GetUtcNow();
        var next = new[] { Health.Budget.ResetsAt, Health.ProtectionOverrideUntil, Health.RestrictedUntil }.Where(t => t > now).Min();
        if (next == boundaryAt)
            return;
        boundary?.Dispose();
        boundary = null;
        boundaryAt = next;
        if (next is { } at)
            boundary = Time.CreateTimer(_ => _ = InvokeAsync(BoundaryAsync), null, at - now, Timeout.InfiniteTimeSpan);
    }

    private async Task BoundaryAsync()
    {
        // A timer may fire a hair early; then wait the rest.
        if (boundaryAt is { } at && at > Time.GetUtcNow())
        {
            boundary?.Change(at - Time.GetUtcNow() + TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
            return;
        }
        boundaryAt = null;
        await OnRefresh.InvokeAsync();
        StateHasChanged();
    }

    private void OpenOverride()
    {
        hours = ProtectionOverride.DefaultHours;
        confirmOpen = true;
    }

    private async Task<string> ActorAsync()
    {
        var user = AuthenticationState is null ? null : (await AuthenticationState).User;
        return user?.Identity?.Name is { Length: > 0 } name ? $"{name} (dashboard)" : "a dashboard user";
    }

    private async Task OverrideAsync()
    {
        if (busy)
            return;
        busy = true;
        await OnError.InvokeAsync(null);
        try
        {
            var until = await HealthDashboard.OverrideProtectionAsync(CustomerId, InstanceId, hours, await ActorAsync());
            confirmOpen = false;
            Snackbar.Add($"Protection overridden until {DashboardFormat.Minute(until)}", Severity.Warning);
            await OnRefresh.InvokeAsync();
        }
        catch (WapBridgeException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
            await OnError.InvokeAsync(e.Message);
        }
        finally
        {
            busy = false;
        }
    }

    public void Dispose() => boundary?.Dispose();
}
