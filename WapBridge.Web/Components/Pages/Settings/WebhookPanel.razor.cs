using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Settings;

public partial class WebhookPanel
{
    [Inject] private WebhookSettingsService Webhooks { get; set; } = default!;
    [Inject] private InstanceService InstanceService { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private const string DefaultScope = "", AnyState = "";
    private const string UrlField = "url", SecretField = "secret", EventsField = "events", GeneralField = "";

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private int? customerId;
    private IReadOnlyList<InstanceDetails> instances = [];
    private string scope = DefaultScope;
    private WebhookSettingsView? view;
    private IReadOnlyList<InstanceWebhookView> overrides = [];
    private string? url, secretInput, generatedSecret;
    private HashSet<string> events = [WebhookEvents.Message];
    private TestResult? testResult;
    private bool busy, confirmRemove;
    private long? replaying;
    private string stateFilter = AnyState;
    private MudTable<DeliveryView>? deliveriesTable;
    private readonly Dictionary<string, string> errors = [];

    protected override async Task OnInitializedAsync()
    {
        customerId = (await AuthenticationState).User.CustomerId();
        if (customerId is not { } id)
            return;
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        await LoadSettingsAsync();
    }

    private string? Scope => scope == DefaultScope ? null : scope;

    private async Task LoadSettingsAsync()
    {
        if (customerId is not { } id)
            return;
        Show(await Webhooks.GetAsync(id, Scope));
    }

    private void Show(WebhookSettingsView settings)
    {
        view = settings;
        if (settings.Instances is { } listed)
            overrides = listed;
        else if (settings.InstanceId is { } code)
            // An override saved or removed here: the list follows without asking the database again.
            overrides = overrides.Where(o => o.InstanceId != code)
                .Concat(settings.Url is null ? [] : [new InstanceWebhookView(code, settings.Url, settings.SecretSet, settings.SecretMasked, settings.Events,
                    settings.Enabled, settings.DisabledReason, settings.UpdatedAt ?? default)])
                .OrderBy(o => o.InstanceId, StringComparer.Ordinal).ToList();
        url = settings.Url;
        events = [.. settings.Events];
        secretInput = null;
        confirmRemove = false;
    }

    private async Task ScopeChangedAsync(string? value)
    {
        scope = value ?? DefaultScope;
        errors.Clear();
        testResult = null;
        generatedSecret = null;
        await LoadSettingsAsync();
    }

    private void ToggleEvent(string name, bool on)
    {
        if (on) events.Add(name); else events.Remove(name);
        errors.Remove(EventsField);
    }

    private bool HasError(string field) => errors.ContainsKey(field);

    private string? ErrorOf(string field) => errors.GetValueOrDefault(field);

    private static string FieldOf(string? field) => field switch
    {
        "url" => UrlField,
        "secret" => SecretField,
        "events" => EventsField,
        _ => GeneralField,
    };

    /// <summary>Runs one settings call, showing a failure next to the field it names.</summary>
    private async Task RunAsync(Func<int, Task> action)
    {
        if (customerId is not { } id || busy)
            return;
        busy = true;
        errors.Clear();
        try
        {
            await action(id);
        }
        catch (WapBridgeException e)
        {
            errors[FieldOf(e.Field)] = e.Message;
        }
        finally
        {
            busy = false;
        }
    }

    private IReadOnlyList<string> SelectedEvents() => WebhookEvents.All.Where(events.Contains).ToList();

    private Task SaveAsync() => RunAsync(async id =>
    {
        var saved = await Webhooks.SetAsync(id, url ?? "", string.IsNullOrEmpty(secretInput) ? null : secretInput, false, SelectedEvents(), Scope);
        Show(saved);
        testResult = null;
        Snackbar.Add("Webhook settings saved", Severity.Success);
    });

    private Task GenerateAsync() => RunAsync(async id =>
    {
        var saved = await Webhooks.SetAsync(id, url ?? "", null, true, SelectedEvents(), Scope);
        Show(saved);
        // In the field at once, readable, as well as in the copy panel below; both go when it is dismissed.
        generatedSecret = secretInput = saved.Secret;
    });

    private void DismissGeneratedSecret()
    {
        if (secretInput == generatedSecret)
            secretInput = null;
        generatedSecret = null;
    }

    private Task RemoveSecretAsync() => RunAsync(async id =>
    {
        Show(await Webhooks.SetAsync(id, url ?? view?.Url ?? "", "", false, SelectedEvents(), Scope));
        generatedSecret = null;
        Snackbar.Add("Secret removed: requests are no longer signed", Severity.Info);
    });

    private Task RemoveAsync() => RunAsync(async id =>
    {
        Show(await Webhooks.SetAsync(id, "", null, false, null, Scope));
        generatedSecret = null;
        testResult = null;
        Snackbar.Add(Scope is null ? "Webhook removed" : $"Override for {Scope} removed", Severity.Info);
    });

    private Task SendTestAsync() => RunAsync(async id =>
    {
        testResult = null;
        testResult = await Webhooks.SendTestAsync(id, Scope);
        // A 410 answer disables the endpoint: show that at once.
        Show(await Webhooks.GetAsync(id, Scope));
        await ReloadDeliveriesAsync();
    });

    private async Task ReplayAsync(long delivery)
    {
        if (customerId is not { } id || replaying is not null)
            return;
        replaying = delivery;
        try
        {
            var result = await Webhooks.RedeliverAsync(id, delivery);
            if (result.Delivered)
                Snackbar.Add($"Delivery {delivery} replayed: the receiver answered {result.StatusCode}", Severity.Success);
            else
                Snackbar.Add($"Delivery {delivery} replayed but not delivered: {(result.StatusCode is { } code ? $"status {code}" : "")} {result.Error}".Trim(), Severity.Warning);
            await LoadSettingsAsyncKeepingInput();
        }
        catch (WapBridgeException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            replaying = null;
        }
        await ReloadDeliveriesAsync();
    }

    /// <summary>Refreshes the enabled/disabled state (a replay may hit a 410) without wiping what the user is typing.</summary>
    private async Task LoadSettingsAsyncKeepingInput()
    {
        if (customerId is { } id)
            view = await Webhooks.GetAsync(id, Scope);
    }

    private async Task<TableData<DeliveryView>> LoadDeliveriesAsync(TableState state, CancellationToken ct)
    {
        if (customerId is not { } id)
            return new TableData<DeliveryView> { Items = [], TotalItems = 0 };
        var page = await Webhooks.ListDeliveriesAsync(id, stateFilter == AnyState ? null : stateFilter, null,
            Paging.From(state.PageSize, state.Page * state.PageSize), ct);
        return new TableData<DeliveryView> { Items = page.Data, TotalItems = page.Total };
    }

    private Task ReloadDeliveriesAsync() => deliveriesTable?.ReloadServerData() ?? Task.CompletedTask;

    private async Task StateFilterChangedAsync(string? value)
    {
        stateFilter = value ?? AnyState;
        await ReloadDeliveriesAsync();
    }

    private static Color StateColor(DeliveryState state) => state switch
    {
        DeliveryState.Delivered => Color.Success,
        DeliveryState.Dead => Color.Error,
        _ => Color.Warning,
    };

    private async Task CopySecretAsync()
    {
        if (generatedSecret is null)
            return;
        bool copied;
        try
        {
            copied = await JS.InvokeAsync<bool>("wapbridge.copy", generatedSecret);
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or TaskCanceledException or InvalidOperationException)
        {
            copied = false;
        }
        if (copied)
            Snackbar.Add("Secret copied", Severity.Success);
        else
            Snackbar.Add("Could not copy the secret: select it and copy it by hand.", Severity.Warning);
    }
}
