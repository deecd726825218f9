using Microsoft.AspNetCore.Components;
using MudBlazor;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Components.Pages.Instances;

/// <summary>
/// One part of <see cref="InstanceDetail"/>: shows the instance the detail read and runs its own actions one at a time;
/// a failure is told to the detail, which shows it in one place.
/// </summary>
public abstract class InstancePanelBase : ComponentBase
{
    [Inject] protected ISnackbar Snackbar { get; set; } = default!;

    [Parameter, EditorRequired] public int CustomerId { get; set; }
    [Parameter, EditorRequired] public InstanceView View { get; set; } = default!;

    /// <summary>After an action changed the instance: the detail reads it again now rather than at the next change event.</summary>
    [Parameter] public EventCallback OnRefresh { get; set; }

    /// <summary>An action failed (its message), or a new one started (null).</summary>
    [Parameter] public EventCallback<string?> OnError { get; set; }

    protected InstanceDetails Details => View.Details;
    protected string InstanceId => View.Details.InstanceId;
    protected bool Busy { get; private set; }

    protected async Task RunAsync(Func<Task> action)
    {
        if (Busy)
            return;
        Busy = true;
        await OnError.InvokeAsync(null);
        try
        {
            await action();
        }
        catch (WapBridgeException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
            await OnError.InvokeAsync(e.Message);
        }
        finally
        {
            Busy = false;
        }
    }
}
