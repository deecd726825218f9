using Microsoft.AspNetCore.Components;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class InstanceDetail : IDisposable
{
    [Inject] private InstanceDashboard Dashboard { get; set; } = default!;
    [Inject] private InstanceChangeFeed InstanceChanges { get; set; } = default!;

    [Parameter, EditorRequired] public int CustomerId { get; set; }
    [Parameter, EditorRequired] public string InstanceId { get; set; } = "";

    /// <summary>After the instance's status changed (the list may want to reload).</summary>
    [Parameter] public EventCallback<InstanceDetails> OnChanged { get; set; }
    [Parameter] public EventCallback<string> OnDeleted { get; set; }
    [Parameter] public EventCallback OnClose { get; set; }

    private InstanceView? view;
    private string? loadError;
    private string? error;
    private string? confirming;
    private string? loadedId;
    private int refreshVersion;
    private bool subscribed;
    private bool disposed;

    protected override void OnInitialized()
    {
        // Only a live circuit listens: a prerender is thrown away and would never unsubscribe.
        if (RendererInfo.IsInteractive)
        {
            InstanceChanges.Changed += OnInstanceChanged;
            subscribed = true;
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        if (loadedId == InstanceId)
            return;
        loadedId = InstanceId;
        view = null;
        loadError = null;
        error = null;
        confirming = null;
        await RefreshAsync();
    }

    private void OnInstanceChanged(string instanceCode)
    {
        if (!disposed && string.Equals(instanceCode, InstanceId, StringComparison.OrdinalIgnoreCase))
            _ = InvokeAsync(RefreshAndRenderAsync);
    }

    private async Task RefreshAndRenderAsync()
    {
        await RefreshAsync();
        StateHasChanged();
    }

    /// <summary>Reads the instance; a slower, older read never overwrites a newer one.</summary>
    private async Task RefreshAsync()
    {
        if (disposed)
            return;
        var version = ++refreshVersion;
        var code = InstanceId;
        try
        {
            var fresh = await Dashboard.GetAsync(CustomerId, code);
            if (version != refreshVersion || disposed)
                return;
            var wasStatus = view?.Details.Status;
            view = fresh;
            loadError = null;
            if (wasStatus is not null && wasStatus != fresh.Details.Status && OnChanged.HasDelegate)
                await OnChanged.InvokeAsync(fresh.Details);
        }
        catch (WapBridgeException e)
        {
            if (version != refreshVersion)
                return;
            view = null;
            loadError = e.Kind == ErrorKind.NotFound ? $"Instance {code} no longer exists." : e.Message;
        }
    }

    private void ShowError(string? message) => error = message;

    private void Ask(string action)
    {
        error = null;
        confirming = action;
    }

    public void Dispose()
    {
        disposed = true;
        if (subscribed)
            InstanceChanges.Changed -= OnInstanceChanged;
    }
}
