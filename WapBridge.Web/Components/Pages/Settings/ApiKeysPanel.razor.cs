using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Settings;

public partial class ApiKeysPanel
{
    [Inject] private ApiKeyService ApiKeys { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>After a key was generated or revoked (the ERPNext panel lists the active keys).</summary>
    [Parameter] public EventCallback OnKeysChanged { get; set; }

    private int? customerId;
    private string? userId;
    private bool isAdminUser;
    private bool adminKey;
    private string? label;
    private string? error;
    private bool busy;
    private int? confirmRevokeId;
    private NewApiKey? created;
    private IReadOnlyList<ApiKeySummary> keys = [];

    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        customerId = user.CustomerId();
        userId = user.UserId();
        isAdminUser = user.IsInRole(Roles.Admin);
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (customerId is { } id)
            keys = await ApiKeys.ListAsync(id);
    }

    private async Task GenerateAsync()
    {
        if (customerId is not { } id || busy)
            return;
        busy = true;
        error = null;
        try
        {
            // An admin key stays tied to the Admin who clicked: it is disarmed when they stop being an Admin.
            created = await ApiKeys.CreateAsync(id, label, userId, isAdminUser && adminKey);
            label = null;
            adminKey = false;
            confirmRevokeId = null;
            await LoadAsync();
            await OnKeysChanged.InvokeAsync();
        }
        catch (WapBridgeException e)
        {
            error = e.Message;
        }
        finally
        {
            busy = false;
        }
    }

    private async Task RevokeAsync(int apiKeyId)
    {
        if (customerId is not { } id || busy)
            return;
        busy = true;
        error = null;
        try
        {
            await ApiKeys.RevokeAsync(id, apiKeyId);
            if (created?.Summary.Id == apiKeyId)
                created = null;
            confirmRevokeId = null;
            await LoadAsync();
            await OnKeysChanged.InvokeAsync();
            Snackbar.Add("API key revoked", Severity.Info);
        }
        catch (WapBridgeException e)
        {
            error = e.Message;
        }
        finally
        {
            busy = false;
        }
    }

    private void DismissSecret() => created = null;

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
            Snackbar.Add($"Could not copy the {what.ToLowerInvariant()}: select it and copy it by hand.", Severity.Warning);
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
}
