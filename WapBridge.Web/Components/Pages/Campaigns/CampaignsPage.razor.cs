using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Campaigns;

/// <summary>The customer's campaigns, one open in <see cref="CampaignDetail"/>; counters move with <see cref="LiveChanges"/>.</summary>
public sealed partial class CampaignsPage
{
    private const int PageSize = 25;
    private static readonly DialogOptions CreateOptions = new() { MaxWidth = MaxWidth.Large, FullWidth = true, CloseButton = true, BackdropClick = false };
    private static readonly DialogOptions ConfirmOptions = new() { MaxWidth = MaxWidth.ExtraSmall, FullWidth = true };

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>A campaign to open, from a link (the Messages page links each campaign message here).</summary>
    [SupplyParameterFromQuery(Name = "campaign")] public string? QueryCampaign { get; set; }

    private int? customerId;
    private IReadOnlyList<CampaignStatus> campaigns = [];
    private IReadOnlyList<InstanceDetails> instances = [];
    private int total, page;
    private bool loaded;
    private string? loadError;
    private string? selected;
    private CampaignStatus? selectedStatus;
    private CampaignDetail? detail;
    private string? busy;
    private bool createOpen, confirmOpen;
    private int formVersion;
    private CampaignStatus? toCancel;
    private int reloadVersion;
    private LiveSubscription? live;
    private bool disposed;

    /// <summary>The selected campaign: its row on this page, else its own status (it may be on another page).</summary>
    private CampaignStatus? SelectedStatus => selected is null ? null : campaigns.FirstOrDefault(c => c.Campaign == selected) ?? selectedStatus;

    protected override async Task OnInitializedAsync()
    {
        customerId = (await AuthenticationState).User.CustomerId();
        if (customerId is not { } id)
            return;
        if (!string.IsNullOrWhiteSpace(QueryCampaign))
            selected = QueryCampaign.Trim().ToUpperInvariant();
        // Only a live circuit follows changes: a prerender is gone before any arrives.
        if (RendererInfo.IsInteractive)
            live = Live.Subscribe(LiveInterest.ForCustomer(id, LiveTopics.Campaign), _ => InvokeAsync(RefreshAsync));
        await ReloadAsync();
        if (selected is not null && SelectedStatus is null)
            selected = null; // not this customer's, or gone
    }

    private async Task ReloadAsync()
    {
        if (customerId is not { } id)
            return;
        var version = ++reloadVersion;
        try
        {
            var list = await Campaigns.ListAsync(id, null, new Paging(PageSize, page * PageSize));
            if (version != reloadVersion)
                return;
            campaigns = list.Data;
            total = list.Total;
            if (selected is not null && campaigns.All(c => c.Campaign != selected))
                selectedStatus = await Campaigns.StatusAsync(id, selected);
            loadError = null;
        }
        catch (WapBridgeException e)
        {
            loadError = e.Message;
        }
        loaded = true;
    }

    /// <summary>A campaign of this customer moved somewhere in the cluster: the list and the open campaign's recipients are read again.</summary>
    private async Task RefreshAsync()
    {
        if (disposed)
            return;
        await ReloadAsync();
        if (detail is not null)
            await detail.RefreshAsync();
        if (!disposed)
            StateHasChanged();
    }

    private async Task PageChangedAsync(int value)
    {
        page = value - 1;
        await ReloadAsync();
    }

    private void Select(string code)
    {
        selected = code;
        selectedStatus = campaigns.FirstOrDefault(c => c.Campaign == code);
    }

    private void OnRowKey(KeyboardEventArgs e, string code)
    {
        if (e.Key is "Enter" or " ")
            Select(code);
    }

    /// <summary>When the next message goes, how long the rest should take, or how it ended.</summary>
    public static string Timing(CampaignStatus c)
    {
        var parts = new List<string>();
        if (c.Status == CampaignState.Scheduled && c.ScheduledAt is { } at)
            parts.Add($"starts {DashboardFormat.Time(at)}");
        else if (c.Status == CampaignState.Running && c.NextSendAt is { } next)
            parts.Add($"next send {DashboardFormat.Time(next)}");
        if (c.EtaSeconds is { } eta && c.Status is CampaignState.Running or CampaignState.Scheduled)
            parts.Add($"about {Duration(eta)} left");
        if (c.CompletedAt is { } done)
            parts.Add($"{(c.Status == CampaignState.Cancelled ? "cancelled" : "finished")} {DashboardFormat.Time(done)}");
        return string.Join(" · ", parts);
    }

    public static string Duration(long seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, seconds));
        if (span.TotalMinutes < 1)
            return $"{(int)span.TotalSeconds} s";
        if (span.TotalHours < 1)
            return $"{(int)span.TotalMinutes} min";
        if (span.TotalDays < 1)
            return $"{(int)span.TotalHours} h {span.Minutes} min";
        return $"{(int)span.TotalDays} d {span.Hours} h";
    }

    private async Task OpenCreateAsync()
    {
        if (customerId is not { } id)
            return;
        // Fresh list: an instance may have been connected since the page opened.
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        formVersion++;
        createOpen = true;
    }

    private async Task OnCreatedAsync((CampaignStatus Status, RecipientsAdded Added) created)
    {
        createOpen = false;
        page = 0;
        selected = created.Status.Campaign;
        selectedStatus = created.Status;
        await ReloadAsync();
        var note = created.Added.Invalid.Count + created.Added.Duplicates + created.Added.Skipped > 0
            ? $" ({created.Added.Invalid.Count} invalid, {created.Added.Duplicates} duplicates, {created.Added.Skipped} opted out)"
            : "";
        Snackbar.Add($"Campaign {created.Status.Campaign} {(created.Status.Status == CampaignState.Scheduled ? "scheduled" : "started")}: " +
                     $"{created.Added.Added} recipients{note}", Severity.Success);
    }

    private Task PauseAsync(string code) => ActAsync(code, id => Campaigns.PauseAsync(id, code), "paused");

    private Task ResumeAsync(string code) => ActAsync(code, id => Campaigns.ResumeAsync(id, code), "resumed");

    private void AskCancel(CampaignStatus c)
    {
        toCancel = c;
        confirmOpen = true;
    }

    private async Task CancelConfirmedAsync()
    {
        confirmOpen = false;
        if (toCancel is { } c)
            await ActAsync(c.Campaign, id => Campaigns.CancelAsync(id, c.Campaign), "cancelled");
        toCancel = null;
    }

    private async Task ActAsync(string code, Func<int, Task<CampaignStatus>> action, string done)
    {
        if (customerId is not { } id || busy is not null)
            return;
        busy = code;
        try
        {
            var status = await action(id);
            // Show the new state at once, then re-read the list.
            campaigns = campaigns.Select(c => c.Campaign == code ? status : c).ToList();
            if (selected == code)
                selectedStatus = status;
            Snackbar.Add($"Campaign {code} {done}", Severity.Info);
            await ReloadAsync();
        }
        catch (WapBridgeException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            busy = null;
        }
    }

    public void Dispose()
    {
        disposed = true;
        live?.Dispose();
    }
}
