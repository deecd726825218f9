using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages;

/// <summary>The message log: filters kept in the URL, a page of messages from <see cref="MessageLog"/>, and live updates from <see cref="LiveChanges"/>.</summary>
public sealed partial class Messages
{
    private const string AnyValue = "";
    private static readonly IReadOnlyList<string> Statuses = WireNames.All<MessageStatus>();

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    // Deep links: the filters, the campaign and the open message live in the URL, so a reload or a shared link shows the same view.
    [SupplyParameterFromQuery(Name = "q")] public string? QuerySearch { get; set; }
    [SupplyParameterFromQuery(Name = "direction")] public string? QueryDirection { get; set; }
    [SupplyParameterFromQuery(Name = "status")] public string? QueryStatus { get; set; }
    [SupplyParameterFromQuery(Name = "instance")] public string? QueryInstance { get; set; }
    [SupplyParameterFromQuery(Name = "number")] public string? QueryNumber { get; set; }
    [SupplyParameterFromQuery(Name = "campaign")] public string? QueryCampaign { get; set; }
    [SupplyParameterFromQuery(Name = "since")] public string? QuerySince { get; set; }
    [SupplyParameterFromQuery(Name = "until")] public string? QueryUntil { get; set; }
    [SupplyParameterFromQuery(Name = "message")] public string? QueryMessage { get; set; }

    private bool filtersOpen;
    private int? customerId;
    private IReadOnlyList<InstanceDetails> instances = [];
    private MudTable<MessageRecord>? table;
    private string? search, direction = AnyValue, status = AnyValue, instanceCode = AnyValue, number, campaign, numberError, loadError;
    private DateTime? since, until;
    private MessageRecord? selected;
    private bool drawerOpen;
    private LiveSubscription? live;
    private bool disposed;

    protected override async Task OnInitializedAsync()
    {
        customerId = (await AuthenticationState).User.CustomerId();
        if (customerId is not { } id)
            return;
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        search = QuerySearch;
        direction = QueryDirection is "inbound" or "outbound" ? QueryDirection : AnyValue;
        status = Statuses.Contains(QueryStatus) ? QueryStatus : AnyValue;
        instanceCode = Blank(QueryInstance)?.ToUpperInvariant() ?? AnyValue;
        number = QueryNumber;
        campaign = Blank(QueryCampaign)?.ToUpperInvariant();
        since = Date(QuerySince);
        until = Date(QueryUntil);
        if (Blank(QueryMessage) is { } messageId)
        {
            try
            {
                selected = await Log.GetAsync(id, messageId);
                drawerOpen = true;
            }
            catch (WapBridgeException)
            {
                // Gone or not this customer's: the list alone.
            }
        }
        // Only a live circuit follows changes: a prerender is gone before any arrives.
        if (RendererInfo.IsInteractive)
            live = Live.Subscribe(LiveInterest.ForCustomer(id, LiveTopics.Messages), _ => InvokeAsync(RefreshAsync));
    }

    private static DateTime? Date(string? value) =>
        DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    /// <summary>Writes the current filters and open message into the address bar, without a new history entry per keystroke.</summary>
    private void UpdateUrl()
    {
        var uri = Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
        {
            ["q"] = Blank(search), ["direction"] = Blank(direction), ["status"] = Blank(status), ["instance"] = Blank(instanceCode),
            ["number"] = Blank(number), ["campaign"] = Blank(campaign), ["since"] = since?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["until"] = until?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["message"] = drawerOpen ? selected?.Id : null,
        });
        if (uri != Navigation.Uri)
            Navigation.NavigateTo(uri, replace: true);
    }

    public static string SourceLabel(string source) => source switch
    {
        MessageSources.Api => "API",
        MessageSources.Erpnext => "ERPNext",
        MessageSources.Campaign => "Campaign",
        MessageSources.Dashboard => "Dashboard",
        MessageSources.Inbound => "WhatsApp",
        _ => source,
    };

    private MessageFilter Filter() => new(
        Blank(instanceCode), Blank(direction), Blank(status), Blank(number), Blank(campaign),
        since is { } s ? new DateTimeOffset(DateTime.SpecifyKind(s.Date, DateTimeKind.Utc)) : null,
        until is { } u ? new DateTimeOffset(DateTime.SpecifyKind(u.Date.AddDays(1), DateTimeKind.Utc)).AddTicks(-1) : null,
        Blank(search));

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private async Task<TableData<MessageRecord>> LoadPageAsync(TableState state, CancellationToken ct)
    {
        if (customerId is not { } id)
            return new TableData<MessageRecord> { Items = [], TotalItems = 0 };
        try
        {
            var page = await Log.ListAsync(id, Filter(), Paging.From(state.PageSize, state.Page * state.PageSize), ct);
            numberError = null;
            loadError = null;
            if (selected is not null && page.Data.FirstOrDefault(m => m.Id == selected.Id) is { } fresh)
                selected = fresh;
            return new TableData<MessageRecord> { Items = page.Data, TotalItems = page.Total };
        }
        catch (WapBridgeException e) when (e.Field == "number")
        {
            numberError = e.Message;
        }
        catch (WapBridgeException e)
        {
            loadError = e.Message;
        }
        return new TableData<MessageRecord> { Items = [], TotalItems = 0 };
    }

    /// <summary>Messages of this customer changed somewhere in the cluster: the current page and the open message are read again.</summary>
    private async Task RefreshAsync()
    {
        if (disposed)
            return;
        if (table is not null)
            await table.ReloadServerData();
        await RefreshSelectedAsync();
        if (!disposed)
            StateHasChanged();
    }

    private async Task RefreshSelectedAsync()
    {
        // The open record may be off the current page: read it by id.
        if (!drawerOpen || selected is null || customerId is not { } id)
            return;
        try
        {
            selected = await Log.GetAsync(id, selected.Id);
        }
        catch (WapBridgeException)
        {
        }
    }

    private Task ReloadAsync()
    {
        UpdateUrl();
        return table?.ReloadServerData() ?? Task.CompletedTask;
    }

    private async Task SearchChangedAsync(string? value) { search = value; await ReloadAsync(); }
    private async Task DirectionChangedAsync(string? value) { direction = value; await ReloadAsync(); }
    private async Task StatusChangedAsync(string? value) { status = value; await ReloadAsync(); }
    private async Task InstanceChangedAsync(string? value) { instanceCode = value; await ReloadAsync(); }
    private async Task NumberChangedAsync(string? value) { number = value; await ReloadAsync(); }
    private async Task SinceChangedAsync(DateTime? value) { since = value; await ReloadAsync(); }
    private async Task UntilChangedAsync(DateTime? value) { until = value; await ReloadAsync(); }

    private async Task ClearFiltersAsync()
    {
        search = number = numberError = campaign = null;
        direction = status = instanceCode = AnyValue;
        since = until = null;
        await ReloadAsync();
    }

    private async Task ClearCampaignAsync() { campaign = null; await ReloadAsync(); }

    private void RowClicked(TableRowClickEventArgs<MessageRecord> args)
    {
        if (args.Item is null)
            return;
        selected = args.Item;
        drawerOpen = true;
        UpdateUrl();
    }

    private void DrawerOpenChanged(bool open)
    {
        drawerOpen = open;
        UpdateUrl();
    }

    private async Task OpenSendDialogAsync()
    {
        if (customerId is not { } id)
            return;
        // Fresh list: an instance may have been connected since the page opened.
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        var parameters = new DialogParameters<SendMessageDialog>
        {
            { d => d.CustomerId, id },
            { d => d.Instances, instances },
            { d => d.Sent, _ => InvokeAsync(ReloadAsync) },
        };
        await Dialogs.ShowAsync<SendMessageDialog>("Send test message", parameters,
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
    }

    public void Dispose()
    {
        disposed = true;
        live?.Dispose();
    }
}
