using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Telemetry;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Settings;

public partial class ErpnextPanel
{
    [Inject] private InstanceService InstanceService { get; set; } = default!;
    [Inject] private ApiKeyService ApiKeys { get; set; } = default!;
    [Inject] private MessageService Messages { get; set; } = default!;
    [Inject] private InstanceDashboard InstanceDashboard { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private Microsoft.Extensions.Options.IOptions<WapBridgeOptions> RootOptions { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    public const string GatewayPath = "api/method/wap_bridge.api.whatsapp.erpnext_notification_gateway";
    public const string SecretPlaceholder = "<API_SECRET>";
    private const string ToField = "to", TextField = "text", GeneralField = "";

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private int? customerId;
    private bool loaded, busy;
    private IReadOnlyList<InstanceDetails> instances = [];
    private IReadOnlyList<ApiKeySummary> activeKeys = [];
    private string? instanceCode, apiKey, defaultCode;
    private string? testTo;
    private string? testText = "Test from ERPNext: WapBridge is set up.";
    private SendOutcome? outcome;
    private readonly Dictionary<string, string> errors = [];

    /// <summary>On the configured public address when there is one: the browser's address may be a tunnel or localhost.</summary>
    private string GatewayUrl => (RootOptions.Value.PublicBaseUrl is { Length: > 0 } configured ? configured : Navigation.BaseUri).TrimEnd('/') + "/" + GatewayPath;

    private bool GatewayIsLoopback => Uri.TryCreate(GatewayUrl, UriKind.Absolute, out var uri)
        && (uri.IsLoopback || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase));

    private string AuthorizationValue => $"token {apiKey ?? "<API_KEY>"}:{SecretPlaceholder}";

    private string? SelectedCountry => instances.FirstOrDefault(i => i.InstanceId == instanceCode)?.DefaultCountry;

    protected override async Task OnInitializedAsync()
    {
        customerId = (await AuthenticationState).User.CustomerId();
        if (customerId is not { } id)
            return;
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        await LoadDefaultAsync();
        instanceCode = defaultCode is not null && instances.Any(i => i.InstanceId == defaultCode)
            ? defaultCode
            : (instances.FirstOrDefault(i => i.Status == InstanceState.Connected) ?? (instances.Count > 0 ? instances[0] : null))?.InstanceId;
        await ReloadKeysAsync();
        loaded = true;
    }

    /// <summary>Re-reads the API keys (after one was generated or revoked on the same page).</summary>
    public async Task ReloadKeysAsync()
    {
        if (customerId is not { } id)
            return;
        activeKeys = (await ApiKeys.ListAsync(id)).Where(k => k.RevokedAt is null).ToList();
        if (apiKey is null || activeKeys.All(k => k.Key != apiKey))
            apiKey = activeKeys.Count > 0 ? activeKeys[0].Key : null;
        StateHasChanged();
    }

    private async Task LoadDefaultAsync()
    {
        if (customerId is { } id)
            defaultCode = await InstanceDashboard.DefaultCodeAsync(id);
    }

    private void InstanceChanged(string? value)
    {
        instanceCode = value;
        outcome = null;
        errors.Clear();
    }


    private static string KeyLabel(ApiKeySummary k) => string.IsNullOrWhiteSpace(k.Label) ? k.Key : $"{k.Key} · {k.Label}";

    private bool HasError(string field) => errors.ContainsKey(field);

    private string? ErrorOf(string field) => errors.GetValueOrDefault(field);

    private static string FieldOf(string? field) => field switch
    {
        "to_number" => ToField,
        "message" => TextField,
        _ => GeneralField,
    };

    private async Task MakeDefaultAsync()
    {
        if (customerId is not { } id || instanceCode is null || busy)
            return;
        busy = true;
        try
        {
            await InstanceService.SetDefaultAsync(id, instanceCode);
            await LoadDefaultAsync();
            Snackbar.Add($"{instanceCode} is now your default instance", Severity.Success);
        }
        catch (WapBridgeException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            busy = false;
        }
    }

    private async Task SendTestAsync()
    {
        if (customerId is not { } id || busy)
            return;
        busy = true;
        errors.Clear();
        outcome = null;
        try
        {
            // A send of its own, not part of the dashboard connection's trace: its message, send and webhooks share this one.
            using var trace = WapBridgeTelemetry.StartRoot(TraceNames.DashboardSend);
            outcome = await Messages.SendAsync(new SendRequest(id, instanceCode, null, testTo, testText, null, null, null, null,
                MessageSources.Erpnext, TimeSpan.FromSeconds(10)));
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

    private async Task CopyAsync(string what, string text)
    {
        bool copied;
        try
        {
            copied = await JS.InvokeAsync<bool>("wapbridge.copy", text);
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or TaskCanceledException or InvalidOperationException)
        {
            copied = false;
        }
        if (copied)
            Snackbar.Add($"{what} copied", Severity.Success);
        else
            Snackbar.Add($"Could not copy the {what}: select it and copy it by hand.", Severity.Warning);
    }
}
