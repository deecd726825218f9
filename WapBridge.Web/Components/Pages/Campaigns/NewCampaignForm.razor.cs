using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Campaigns;

public partial class NewCampaignForm
{
    [Inject] private CampaignService Campaigns { get; set; } = default!;

    public const string InstanceField = "instance";
    public const string NameField = "name";
    public const string MessageField = "message";
    public const string RecipientsField = "recipients";
    public const string ScheduleField = "scheduled_at";
    public const string GeneralField = "";

    /// <summary>The throttle as a whole (not one of its fields): shown under the throttle fields.</summary>
    public const string ThrottleField = "throttle";
    public const long MaxCsvBytes = 5 * 1024 * 1024;
    private const int MaxProblemsShown = 50;

    [Parameter, EditorRequired] public int CustomerId { get; set; }
    [Parameter, EditorRequired] public IReadOnlyList<InstanceDetails> Instances { get; set; } = [];
    [Parameter] public EventCallback<(CampaignStatus Status, RecipientsAdded Added)> OnCreated { get; set; }
    [Parameter] public EventCallback OnCancel { get; set; }

    private sealed record CsvFile(string Name);
    private sealed record Problem(int Line, string Input, string Kind, string Text);

    private readonly Dictionary<string, string> errors = new(StringComparer.Ordinal);
    private string? instanceCode, name, message, pasted, csvError;
    private CsvFile? csv;
    private IReadOnlyList<CampaignCsv.Row> csvRows = [];
    private bool hasHeader = true;
    private int numberColumn;
    private RecipientDraft draft = RecipientDraft.Empty;
    private IReadOnlyList<RenderedPreview> Previews = [];
    private List<Problem> Problems = [];
    private bool leaveOutMissing = true;
    private bool busy;

    private double minDelay = 10, maxDelay = 30;
    private int? hourlyLimit, dailyLimit;
    private bool activeHours, scheduled, throttleOpen, checkNumbersFirst;
    private string? activeStart = "08:00", activeEnd = "20:00", timeZone = "Africa/Dar_es_Salaam", scheduleAt;

    private IReadOnlyList<string> Columns => draft.Columns;
    private IEnumerable<string> VariableColumns => Columns.Where((_, i) => csv is not null && i != numberColumn);
    private int InvalidCount => draft.Invalid.Count();
    private int MissingCount => draft.MissingVariables.Count();
    private int DuplicateCount => draft.Duplicates.Count();
    private int SendCount => draft.SendableCount + (leaveOutMissing ? 0 : MissingCount);

    private InstanceDetails? Instance => Instances.FirstOrDefault(i => i.InstanceId == instanceCode);

    private string ThrottleSummary
    {
        get
        {
            var parts = new List<string> { $"{Num(minDelay)}–{Num(maxDelay)} s apart" };
            if (hourlyLimit is { } h) parts.Add($"≤ {h}/hour");
            if (dailyLimit is { } d) parts.Add($"≤ {d}/day");
            if (activeHours) parts.Add($"{activeStart}–{activeEnd} {timeZone}");
            parts.Add(scheduled ? $"starts {scheduleAt?.Replace('T', ' ') ?? "…"} UTC" : "starts now");
            return "Pace and schedule: " + string.Join(", ", parts);
        }
    }

    private static string Num(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    protected override void OnInitialized() =>
        instanceCode = (Instances.FirstOrDefault(i => i.Status == InstanceState.Connected) ?? (Instances.Count > 0 ? Instances[0] : null))?.InstanceId;


    private string ColumnLabel(int index)
    {
        var sample = csvRows.Skip(hasHeader ? 1 : 0).Select(r => index < r.Cells.Count ? r.Cells[index] : "").FirstOrDefault(s => s.Length > 0);
        var title = hasHeader && csvRows.Count > 0 && index < csvRows[0].Cells.Count && csvRows[0].Cells[index].Length > 0
            ? csvRows[0].Cells[index] : $"Column {index + 1}";
        return sample is null ? title : $"{title} (e.g. {DashboardFormat.Excerpt(sample, 24)})";
    }

    private bool HasError(string field) => errors.ContainsKey(field);
    private string? ErrorOf(string field) => errors.GetValueOrDefault(field);

    private void InstanceChanged(string? value)
    {
        instanceCode = value;
        errors.Remove(InstanceField);
        Recheck();
    }

    private void MessageChanged(string? value)
    {
        message = value;
        errors.Remove(MessageField);
        Recheck();
    }

    private void PastedChanged(string? value)
    {
        pasted = value;
        errors.Remove(RecipientsField);
        Recheck();
    }

    private void InsertVariable(string column)
    {
        message = (message ?? "") + "{{" + column + "}}";
        Recheck();
    }

    private void HeaderChanged(bool value)
    {
        hasHeader = value;
        numberColumn = RecipientDraft.GuessNumberColumn(csvRows, hasHeader, Instance?.DefaultCountry);
        Recheck();
    }

    private void NumberColumnChanged(int value)
    {
        numberColumn = value;
        Recheck();
    }

    private async Task CsvChosenAsync(IBrowserFile? chosen)
    {
        csvError = null;
        if (chosen is null)
            return;
        if (chosen.Size > MaxCsvBytes)
        {
            csvError = $"{chosen.Name} is {DashboardFormat.Size(chosen.Size)}; the limit is {DashboardFormat.Size(MaxCsvBytes)}.";
            return;
        }
        try
        {
            await using var stream = chosen.OpenReadStream(MaxCsvBytes);
            using var reader = new StreamReader(stream, detectEncodingFromByteOrderMarks: true);
            LoadCsv(chosen.Name, await reader.ReadToEndAsync());
        }
        catch (IOException e)
        {
            csvError = $"Could not read {chosen.Name}: {e.Message}";
        }
    }

    /// <summary>Takes a CSV file's text as the recipient list; public so tests can feed it without a browser file.</summary>
    public void LoadCsv(string fileName, string text)
    {
        var rows = CampaignCsv.Parse(text);
        if (rows.Count == 0)
        {
            csvError = $"{fileName} has no rows.";
            return;
        }
        csv = new CsvFile(fileName);
        csvRows = rows;
        hasHeader = RecipientDraft.GuessHeader(rows, Instance?.DefaultCountry);
        numberColumn = RecipientDraft.GuessNumberColumn(rows, hasHeader, Instance?.DefaultCountry);
        errors.Remove(RecipientsField);
        Recheck();
    }

    private void RemoveCsv()
    {
        csv = null;
        csvRows = [];
        csvError = null;
        Recheck();
    }

    private void Recheck()
    {
        var rows = csv is null ? CampaignCsv.ParseLines(pasted) : csvRows;
        draft = RecipientDraft.Build(rows, csv is not null && hasHeader, csv is null ? 0 : numberColumn, Instance?.DefaultCountry, message);
        Previews = draft.Previews(message);
        Problems = draft.Recipients.Where(r => r.Number is null || r.Duplicate || r.Missing.Count > 0)
            .Select(r => r.Number is null ? new Problem(r.Line, r.Input, "invalid", r.Error ?? "invalid number")
                : r.Duplicate ? new Problem(r.Line, r.Input, "duplicate", "duplicate of an earlier row; sent once")
                : new Problem(r.Line, r.Input, "missing", "missing " + string.Join(", ", r.Missing.Select(m => "{{" + m + "}}"))))
            .ToList();
    }

    /// <summary>The throttle object of the API (contract §3).</summary>
    public JsonObject Throttle()
    {
        var throttle = new JsonObject
        {
            ["min_delay_seconds"] = minDelay,
            ["max_delay_seconds"] = maxDelay,
        };
        if (hourlyLimit is { } h) throttle["hourly_limit"] = h;
        if (dailyLimit is { } d) throttle["daily_limit"] = d;
        if (activeHours)
            throttle["active_hours"] = new JsonObject { ["start"] = activeStart?.Trim(), ["end"] = activeEnd?.Trim(), ["timezone"] = timeZone?.Trim() };
        // Through text, as the API receives it: CampaignThrottle reads numbers with GetValue<double>(), which an in-memory int node refuses.
        return JsonNode.Parse(throttle.ToJsonString())!.AsObject();
    }

    private async Task StartAsync()
    {
        if (busy)
            return;
        errors.Clear();
        DateTimeOffset? at = null;
        if (scheduled)
        {
            if (!DateTime.TryParse(scheduleAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
            {
                errors[ScheduleField] = "Choose the date and time to start at.";
                throttleOpen = true;
                return;
            }
            at = new DateTimeOffset(DateTime.SpecifyKind(when, DateTimeKind.Utc));
        }
        busy = true;
        try
        {
            var created = await Campaigns.CreateAsync(CustomerId, new NewCampaign(instanceCode, name, message, draft.ToJson(leaveOutMissing),
                null, null, null, null, at, Throttle(), checkNumbersFirst));
            await OnCreated.InvokeAsync(created);
        }
        catch (WapBridgeException e)
        {
            var field = FieldOf(e.Field);
            errors[field] = e.Code == "unthrottled_refused" ? UnthrottledRefused : DashboardErrors.Describe(e, Labels);
            if (field.StartsWith("throttle", StringComparison.Ordinal) || field == ScheduleField)
                throttleOpen = true;
        }
        finally
        {
            busy = false;
        }
    }

    /// <summary>The API arguments this form fills, by the labels it shows them under.</summary>
    public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["instance_id"] = "Send from instance", ["campaign_name"] = "Campaign name", ["recipients"] = "Recipients", ["phone_number"] = "Number",
        ["scheduled_at"] = "Start at", ["throttle.min_delay_seconds"] = "Min delay", ["throttle.max_delay_seconds"] = "Max delay",
        ["min_delay_seconds"] = "Min delay", ["throttle.hourly_limit"] = "Per hour at most", ["throttle.daily_limit"] = "Per day at most",
        ["throttle.active_hours.start"] = "From (HH:mm)", ["throttle.active_hours.end"] = "Until (HH:mm)", ["throttle.active_hours.timezone"] = "Time zone",
        ["throttle"] = "Throttle",
    };

    /// <summary>The API's refusal of a campaign without spacing or limits on a real number, in the words of this form's fields.</summary>
    public const string UnthrottledRefused = "With Max delay 0 and no Per hour or Per day limit, this campaign would message everyone back to back from a "
        + "real WhatsApp number, which is what gets numbers banned. Set Max delay above 0 or a Per hour or Per day limit; only an Admin can allow "
        + "unthrottled campaigns for your account.";

    /// <summary>Which input an API field error belongs next to.</summary>
    public static string FieldOf(string? apiField) => apiField switch
    {
        "instance_id" or "instance" => InstanceField,
        "campaign_name" or "name" => NameField,
        "message" => MessageField,
        "recipients" => RecipientsField,
        "scheduled_at" => ScheduleField,
        "throttle" => ThrottleField,
        { } f when f.StartsWith("throttle.", StringComparison.Ordinal) => f,
        _ => GeneralField,
    };
}
