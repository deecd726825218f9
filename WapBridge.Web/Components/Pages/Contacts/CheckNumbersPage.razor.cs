using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Instances;
using WapBridge.Web.Components.Pages.Campaigns;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Contacts;

/// <summary>
/// The "Check numbers" tool: pasted numbers asked through <see cref="ContactDirectory"/> (the API's
/// <c>contacts.check_numbers</c>, with its 24 h cache), answered as a table the user can save as CSV.
/// </summary>
public sealed partial class CheckNumbersPage
{
    /// <summary>One answer as the table and the CSV show it.</summary>
    public sealed record CheckRow(string Number, string OnWhatsApp, string Reason, string Lid);

    public const string Yes = "yes", No = "no", Unknown = "unknown", Invalid = "invalid";

    private static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["numbers"] = "Numbers", ["instance_id"] = "Instance",
    };

    private static readonly IReadOnlyDictionary<string, string> RowLabels = new Dictionary<string, string> { ["numbers"] = "Number" };

    [Inject] private ContactDirectory Contacts { get; set; } = default!;
    [Inject] private InstanceService InstanceService { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private int? customerId;
    private IReadOnlyList<InstanceDetails> instances = [];
    private string? instanceCode;
    private string? pasted;
    private string? formError;
    private bool checking;
    private IReadOnlyList<NumberCheckAnswer>? answers;
    private IReadOnlyList<CheckRow> rows = [];

    private static string NumbersHelp => $"One a line, or separated by commas; at most {ContactDirectory.MaxNumbersPerCall} at a time";

    private string Summary
    {
        get
        {
            var on = rows.Count(r => r.OnWhatsApp == Yes);
            return $"{on} of {rows.Count} on WhatsApp";
        }
    }

    protected override async Task OnInitializedAsync()
    {
        customerId = (await AuthenticationState).User.CustomerId();
        if (customerId is not { } id)
            return;
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        instanceCode = (instances.FirstOrDefault(i => i.Status == InstanceState.Connected) ?? (instances.Count > 0 ? instances[0] : null))?.InstanceId;
    }

    private async Task CheckAsync()
    {
        if (checking || customerId is not { } id)
            return;
        formError = null;
        var numbers = CampaignCsv.ParseLines(pasted).Select(r => r.Cells[0]).ToList();
        if (numbers.Count == 0)
        {
            formError = "Numbers: paste at least one phone number.";
            return;
        }
        if (numbers.Count > ContactDirectory.MaxNumbersPerCall)
        {
            formError = $"Numbers: at most {ContactDirectory.MaxNumbersPerCall} at a time; you pasted {numbers.Count}. Check them in parts.";
            return;
        }
        checking = true;
        try
        {
            answers = await Contacts.CheckNumbersAsync(id, instanceCode, null, [.. numbers]);
            rows = Rows(answers);
        }
        catch (WapBridgeException e)
        {
            formError = DashboardErrors.IsNotConnected(e)
                ? $"Instance {instanceCode} is not connected, so it cannot ask WhatsApp. Connect it under Instances, or choose another instance."
                : DashboardErrors.Describe(e, Labels);
        }
        finally
        {
            checking = false;
        }
    }

    /// <summary>The answers in the order asked: yes / no / unknown (the engine could not tell) / invalid with the reason.</summary>
    public static IReadOnlyList<CheckRow> Rows(IReadOnlyList<NumberCheckAnswer> answers) => answers.Select(a => a switch
    {
        // The service names its argument (numbers); a row is one number.
        { Valid: false } => new CheckRow(a.Number, Invalid, DashboardErrors.Relabel(a.Error ?? "is not a phone number", RowLabels), ""),
        { OnWhatsApp: true } => new CheckRow("+" + a.Number, Yes, "", a.Lid ?? ""),
        { OnWhatsApp: false } => new CheckRow("+" + a.Number, No, "", a.Lid ?? ""),
        _ => new CheckRow("+" + a.Number, Unknown, "WhatsApp did not say; check it again later", a.Lid ?? ""),
    }).ToList();

    /// <summary>The table as CSV, the same columns: number, on_whatsapp, reason, lid.</summary>
    public static string Csv(IReadOnlyList<CheckRow> rows) =>
        CampaignCsv.Write(rows.Select(r => new[] { r.Number, r.OnWhatsApp, r.Reason, r.Lid }).Prepend(["number", "on_whatsapp", "reason", "lid"]));

    private async Task ExportAsync()
    {
        var file = $"whatsapp-check-{Time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmm", CultureInfo.InvariantCulture)}.csv";
        try
        {
            await JS.InvokeVoidAsync("wapbridge.download", file, Csv(rows), "text/csv");
        }
        catch (JSException e)
        {
            Snackbar.Add($"Could not save the file: {e.Message}", Severity.Error);
        }
    }

    private static Color VerdictColor(string verdict) => verdict switch
    {
        Yes => Color.Success,
        No => Color.Warning,
        Invalid => Color.Error,
        _ => Color.Default,
    };
}
