using Microsoft.AspNetCore.Components;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class CloudApiFields
{
    [Inject] private CloudApiInstances CloudApi { get; set; } = default!;

    [Parameter, EditorRequired] public CloudApiForm Form { get; set; } = default!;

    /// <summary>The last attempt to create the instance failed with this; an error about one of these fields shows under it.</summary>
    [Parameter] public WapBridgeException? Error { get; set; }

    [Parameter] public bool Disabled { get; set; }

    private CloudApiConnectionCheck? check;
    private bool testing;

    private string? ErrorOf(string field) =>
        Error is { } error && error.Field == field ? DashboardErrors.Describe(error, CloudApiForm.Labels) : null;

    private async Task TestConnectionAsync()
    {
        if (testing)
            return;
        testing = true;
        check = null;
        try
        {
            check = await CloudApi.TestConnectionAsync(Form.PhoneNumberId?.Trim(), Form.AccessToken?.Trim(), CancellationToken.None);
        }
        catch (WapBridgeException e)
        {
            check = new CloudApiConnectionCheck(false, null, null, DashboardErrors.Describe(e, CloudApiForm.Labels));
        }
        finally
        {
            testing = false;
        }
    }

    private static string CheckError(CloudApiConnectionCheck failed) =>
        DashboardErrors.Relabel(failed.Error ?? "Graph did not answer for this phone number ID.", CloudApiForm.Labels);
}
