using Microsoft.AspNetCore.Components;
using WapBridge.Core.Common;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class InstanceDetail : IDisposable
{
    [Inject] private InstanceDashboard Dashboard { get; set; } = default!;
    [Inject] private InstanceChangeFeed InstanceChanges { get; set; } = default!;
    [Inject] private InstanceHealthDashboard HealthDashboard { get; set; } = default!;
    [Inject] private LiveChanges Live { get; set; } = default!;

    [Parameter, EditorRequired] public int CustomerId { get; set; }
    [Parameter, EditorRequired] public string InstanceId { get; set; } = "";

    /// <summary>After the instance's status changed (the list may want to reload).</summary>
    [Parameter] public EventCallback<InstanceDetails> OnChanged { get; set; }
    [Parameter] public EventCallback<string> OnDeleted { get; set; }
    [Parameter] public EventCallback OnClose { get; set; }

    private InstanceView? view;
    private InstanceHealthView? health;
    private string? loadError;
    private string? error;
    private string? confirming;
    private string? loadedId;
    private int refreshVersion;
    private int healthVersion;
    private LiveSubscription? messages;
    private bool subscribed;
    private bool disposed;

    protected override void OnInitialized()
    {
        // Only a live circuit listens: a prerender is thrown away and would never unsubscribe.
        if (RendererInfo.IsInteractive)
        {
            InstanceChanges.Changed += OnInstanceChanged;
            subscribed = true;
            // Sends spend the day's new-contact budget without changing the instance.
            messages = Live.Subscribe(LiveInterest.ForCustomer(CustomerId, LiveTopics.Messages), OnMessagesChanged, HealthInterval);
        }
    }

    /// <summary>At most one read of the health for a burst of sends: it reads recent traffic.</summary>
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(2);

    protected override async Task OnParametersSetAsync()
    {
        if (loadedId == InstanceId)
            return;
        loadedId = InstanceId;
        view = null;
        health = null;
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

    private Task OnMessagesChanged(IReadOnlyCollection<LiveChange> changes)
    {
        if (disposed || !changes.Any(c => c.Subject is null || string.Equals(c.Subject, InstanceId, StringComparison.OrdinalIgnoreCase)))
            return Task.CompletedTask;
        return InvokeAsync(async () =>
        {
            await RefreshHealthAsync();
            if (!disposed)
                StateHasChanged();
        });
    }

    /// <summary>Reads the instance's health; a failed read leaves the panel out rather than the whole instance.</summary>
    private async Task RefreshHealthAsync()
    {
        if (disposed)
            return;
        var version = ++healthVersion;
        var code = InstanceId;
        try
        {
            // Off the circuit's thread: SQLite reads and the first look-up of a number's zone (libphonenumber's tables) block.
            var customerId = CustomerId;
            var fresh = await Task.Run(() => HealthDashboard.GetAsync(customerId, code));
            if (version == healthVersion && !disposed)
                health = fresh;
        }
        catch (WapBridgeException)
        {
            if (version == healthVersion)
                health = null;
        }
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
            await RefreshHealthAsync();
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

    private bool IsCloudApi => view?.Details.Engine == Core.Engines.CloudApi.CloudApiInstances.EngineName;

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
        messages?.Dispose();
    }
}
