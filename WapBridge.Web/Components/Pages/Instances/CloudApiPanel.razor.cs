using Microsoft.AspNetCore.Components;
using MudBlazor;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Instances;

/// <summary>
/// The set-up of a Cloud API instance through <see cref="CloudApiInstances"/>, and its account's templates as Graph lists
/// them now. Failures are shown here, next to what failed; the templates' failure (Graph unreachable, token refused) does not
/// hide the rest.
/// </summary>
public sealed partial class CloudApiPanel
{
    private const string AccessTokenField = "cloudapi.access_token";
    private const string AppSecretField = "cloudapi.app_secret";

    private static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        [AccessTokenField] = "New access token",
        [AppSecretField] = "New app secret",
        ["fallback_template"] = "Fallback template",
        ["fallback_template_language"] = "Fallback template's language",
        ["instance_id"] = "Instance",
    };

    [Inject] private CloudApiInstances CloudApi { get; set; } = default!;
    [Inject] private CloudApiDashboard Dashboard { get; set; } = default!;

    private CloudApiSetup? setup;
    private bool setupMissing;
    private string? loadedFor;
    private string? error;

    private string? replacing;
    private string? newSecret;
    private string? replaceError;

    private IReadOnlyList<EngineTemplate>? templates;
    private string? templatesError;
    private bool loadingTemplates;
    private string? fallbackChoice;

    private string HeadingId => "cloudapi-" + InstanceId;

    /// <summary>What can stand in for a free-form text: approved, and one variable for the text to fill.</summary>
    private IReadOnlyList<EngineTemplate> FallbackChoices => templates is null
        ? []
        : templates.Where(t => string.Equals(t.Status, "APPROVED", StringComparison.OrdinalIgnoreCase) && t.Variables.Count == 1).ToList();

    private static string ChoiceOf(EngineTemplate t) => t.Name + "|" + t.Language;

    protected override async Task OnParametersSetAsync()
    {
        if (loadedFor == InstanceId)
            return;
        loadedFor = InstanceId;
        setup = null;
        templates = null;
        templatesError = null;
        CancelReplacing();
        await LoadSetupAsync();
        await LoadTemplatesAsync();
    }

    private async Task LoadSetupAsync()
    {
        setup = await CloudApi.GetSetupAsync(CustomerId, InstanceId, CancellationToken.None);
        setupMissing = setup is null;
        fallbackChoice = setup?.FallbackTemplate is { } name ? name + "|" + (setup.FallbackTemplateLanguage ?? "en") : null;
    }

    private async Task LoadTemplatesAsync()
    {
        if (loadingTemplates)
            return;
        loadingTemplates = true;
        try
        {
            templates = await Dashboard.ListTemplatesAsync(CustomerId, InstanceId);
            templatesError = null;
        }
        catch (WapBridgeException e)
        {
            templatesError = "Could not list the templates: " + DashboardErrors.Describe(e, Labels);
        }
        finally
        {
            loadingTemplates = false;
        }
    }

    private void StartReplacing(string field)
    {
        error = null;
        replacing = field;
        newSecret = null;
        replaceError = null;
    }

    private void CancelReplacing()
    {
        replacing = null;
        newSecret = null;
        replaceError = null;
    }

    private async Task SaveSecretAsync()
    {
        if (replacing is not { } field || Busy)
            return;
        replaceError = null;
        var change = field == AccessTokenField ? new CloudApiInstanceUpdate(AccessToken: newSecret ?? "") : new CloudApiInstanceUpdate(AppSecret: newSecret ?? "");
        var saved = await UpdateAsync(change, field);
        if (!saved)
            return;
        Snackbar.Add(field == AccessTokenField ? "Access token replaced: the instance reconnects with it" : "App secret replaced", Severity.Success);
        CancelReplacing();
    }

    private async Task SaveFallbackAsync()
    {
        if (fallbackChoice?.Split('|') is not [var name, var language])
            return;
        if (await UpdateAsync(new CloudApiInstanceUpdate(FallbackTemplate: name, FallbackTemplateLanguage: language)))
            Snackbar.Add($"Fallback template set to {name} ({language})", Severity.Success);
    }

    private async Task ClearFallbackAsync()
    {
        if (await UpdateAsync(new CloudApiInstanceUpdate(ClearFallbackTemplate: true)))
        {
            fallbackChoice = null;
            Snackbar.Add("Fallback template cleared", Severity.Info);
        }
    }

    /// <summary>Applies the change and reads the set-up again; a failure about <paramref name="field"/> is shown under that field, any other above.</summary>
    private async Task<bool> UpdateAsync(CloudApiInstanceUpdate change, string? field = null)
    {
        var saved = false;
        error = null;
        await RunAsync(async () =>
        {
            try
            {
                await CloudApi.UpdateAsync(CustomerId, InstanceId, change, CancellationToken.None);
            }
            catch (WapBridgeException e)
            {
                if (field is not null && e.Field == field)
                    replaceError = DashboardErrors.Describe(e, Labels);
                else
                    error = DashboardErrors.Describe(e, Labels);
                return;
            }
            saved = true;
            await LoadSetupAsync();
            await OnRefresh.InvokeAsync();
        });
        return saved;
    }

    private static Color StatusColor(string status) => status.ToUpperInvariant() switch
    {
        "APPROVED" => Color.Success,
        "REJECTED" or "DISABLED" or "PAUSED" => Color.Error,
        _ => Color.Default,
    };
}
