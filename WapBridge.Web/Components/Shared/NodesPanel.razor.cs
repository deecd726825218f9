using MudBlazor;
using WapBridge.Core.Cluster;
using WapBridge.Core.Live;

namespace WapBridge.Web.Components.Shared;

/// <summary>The cluster's nodes for an Admin, read again when membership changes or an instance moves (<see cref="LiveChanges"/>).</summary>
public sealed partial class NodesPanel
{
    private IReadOnlyList<NodeSummary> nodes = [];
    private string? error;
    private LiveSubscription? live;
    private bool disposed;

    protected override async Task OnInitializedAsync()
    {
        // Every customer's instances count on the nodes they live on: an Admin view, all customers.
        if (RendererInfo.IsInteractive)
            live = Live.Subscribe(LiveInterest.ForAll(LiveTopics.Nodes, LiveTopics.Instance), _ => InvokeAsync(async () =>
            {
                if (disposed)
                    return;
                await RefreshAsync();
                if (!disposed)
                    StateHasChanged();
            }));
        await RefreshAsync();
    }

    private async Task RefreshAsync()
    {
        try
        {
            nodes = await Nodes.ListAsync();
            error = null;
        }
        catch (Exception e)
        {
            error = "The cluster's membership could not be read: " + e.Message;
        }
    }

    private static Color StatusColor(string status) => status switch
    {
        "active" => Color.Success,
        "dead" => Color.Error,
        _ => Color.Warning,
    };

    public void Dispose()
    {
        disposed = true;
        live?.Dispose();
    }
}
