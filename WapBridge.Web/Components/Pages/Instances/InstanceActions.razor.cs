using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class InstanceActions
{
    [Inject] private InstanceService Instances { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>The action waiting for the user's confirmation (an <see cref="InstanceAction"/>), or null.</summary>
    [Parameter] public string? Confirming { get; set; }
    [Parameter] public EventCallback<string?> ConfirmingChanged { get; set; }
    [Parameter] public EventCallback<string> OnDeleted { get; set; }

    // A never-paired instance has no device to unlink: logging it out would only pretend.
    private bool CanLogout => Details is { WasPaired: true, Status: InstanceState.Connected or InstanceState.Connecting or InstanceState.Disconnected };

    private async Task SetConfirmingAsync(string? action)
    {
        if (action is not null)
            await OnError.InvokeAsync(null);
        Confirming = action;
        await ConfirmingChanged.InvokeAsync(action);
    }

    private Task MakeDefaultAsync() => RunAsync(async () =>
    {
        await Instances.SetDefaultAsync(CustomerId, InstanceId);
        Snackbar.Add($"{InstanceId} is now your default instance", Severity.Success);
        await OnRefresh.InvokeAsync();
    });

    private async Task<string> ActorAsync()
    {
        var user = (await AuthenticationState).User;
        return user.Identity?.Name is { Length: > 0 } name ? $"{name} (dashboard)" : "a dashboard user";
    }

    private Task ConfirmAsync() => RunAsync(async () =>
    {
        var action = Confirming;
        await SetConfirmingAsync(null);
        switch (action)
        {
            case InstanceAction.Logout:
                await Instances.LogoutAsync(CustomerId, InstanceId);
                Snackbar.Add("Instance logged out", Severity.Info);
                break;
            case InstanceAction.Restart:
                await Instances.RestartAsync(CustomerId, InstanceId);
                Snackbar.Add("Instance restarted", Severity.Info);
                break;
            case InstanceAction.Resume:
                await Instances.ResumeSendingAsync(CustomerId, InstanceId, await ActorAsync());
                Snackbar.Add("Sending resumed: held messages to new contacts go out now", Severity.Warning);
                break;
            case InstanceAction.Delete:
                await Instances.DeleteAsync(CustomerId, InstanceId);
                Snackbar.Add($"Instance {InstanceId} deleted", Severity.Info);
                if (OnDeleted.HasDelegate)
                    await OnDeleted.InvokeAsync(InstanceId);
                return;
        }
        await OnRefresh.InvokeAsync();
    });
}

/// <summary>The instance actions that ask first, with what the question and the confirming button say.</summary>
public static class InstanceAction
{
    public const string Logout = "logout", Restart = "restart", Delete = "delete", Resume = "resume";

    /// <param name="engine">The instance's engine: a Cloud API instance has no device or QR code, Meta's app keeps its number.</param>
    public static string ConfirmText(string action, string? engine = null) => (action, engine) switch
    {
        (Logout, Core.Engines.CloudApi.CloudApiInstances.EngineName) =>
            "Log out? WapBridge stops sending and receiving on this number until you restart the instance; nothing changes in Meta's app.",
        (Restart, Core.Engines.CloudApi.CloudApiInstances.EngineName) => "Restart? The connection to Meta's Graph API is closed and opened again.",
        _ => ConfirmText(action),
    };

    public static string ConfirmText(string action) => action switch
    {
        Logout => "Log out? The device is unlinked from the phone; pairing again needs a new scan.",
        Restart => "Restart? The session is closed and opened again (a logged-out instance shows a new QR code).",
        Delete => "Delete this instance? It is logged out and removed; this cannot be undone.",
        Resume => "Resume sending before WhatsApp's restriction ends? The held messages to new contacts go out now. If WhatsApp still restricts "
            + "the number, sending into the restriction can deepen it (a longer restriction or a ban). This is logged.",
        _ => action,
    };

    public static string Label(string action) => action switch
    {
        Logout => "Logout",
        Restart => "Restart",
        Delete => "Delete",
        Resume => "Resume sending",
        _ => action,
    };

    public static Color Color(string action) => action switch
    {
        Restart => MudBlazor.Color.Primary,
        Resume => MudBlazor.Color.Warning,
        _ => MudBlazor.Color.Error,
    };
}
