using Microsoft.AspNetCore.Components;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class InstanceHealth : IDisposable
{
    [Inject] private InstanceService Instances { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    /// <summary>The user asked for an action that needs confirming (the early resume).</summary>
    [Parameter] public EventCallback<string> OnAsk { get; set; }

    private ITimer? restrictionEnd;
    private DateTimeOffset? restrictionEndsAt;

    // A ban is waited out: reconnecting into it prolongs it.
    private bool CanRetry => Details.Status == InstanceState.Disconnected && !(Details.BannedUntil > Time.GetUtcNow());

    private DateTimeOffset? ActiveRestriction => Details.RestrictedUntil is { } until && until > Time.GetUtcNow() ? until : null;

    protected override void OnParametersSet()
    {
        if (Details.RestrictedUntil == restrictionEndsAt)
            return;
        restrictionEnd?.Dispose();
        restrictionEnd = null;
        restrictionEndsAt = Details.RestrictedUntil;
        // A clock, not a poll: the restriction ends at a known time, nothing is read; the panel just leaves then.
        if (ActiveRestriction is { } until)
            restrictionEnd = Time.CreateTimer(_ => _ = InvokeAsync(RestrictionTime), null, until - Time.GetUtcNow(), Timeout.InfiniteTimeSpan);
    }

    private void RestrictionTime()
    {
        // A timer may fire a hair early; then wait the rest.
        if (ActiveRestriction is { } until)
            restrictionEnd?.Change(until - Time.GetUtcNow() + TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
        else
            StateHasChanged();
    }

    private Task RetryNowAsync() => RunAsync(async () =>
    {
        await Instances.ReconnectAsync(CustomerId, InstanceId);
        Snackbar.Add("Reconnecting now", MudBlazor.Severity.Info);
        await OnRefresh.InvokeAsync();
    });

    public void Dispose() => restrictionEnd?.Dispose();
}
