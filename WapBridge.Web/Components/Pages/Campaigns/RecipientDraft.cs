using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Campaigns;

/// <summary>One row of the recipient list as it will be sent: its number (or why it has none) and its variables.</summary>
public sealed record DraftRecipient(int Line, string Input, string? Number, JsonObject Variables, string? Error, IReadOnlyList<string> Missing, bool Duplicate)
{
    public bool Sendable => Number is not null && Missing.Count == 0 && !Duplicate;
}

public sealed record RenderedPreview(int Line, string Number, string Text);

/// <summary>
/// The recipients of a new campaign, checked the way the server will check them: numbers normalised with the
/// instance's default country, duplicates, and the message's <c>{{variables}}</c> each row lacks.
/// The number column is mapped to <c>phone_number</c>; every other column becomes a variable named after its header.
/// </summary>
public sealed partial class RecipientDraft
{
    private static readonly string[] NumberHeaders = ["phone_number", "phone", "number", "mobile", "msisdn", "whatsapp", "to_number", "tel", "telephone", "cell"];

    public IReadOnlyList<string> Columns { get; }
    public int NumberColumn { get; }
    public IReadOnlyList<DraftRecipient> Recipients { get; }

    public IEnumerable<DraftRecipient> Invalid => Recipients.Where(r => r.Number is null);
    public IEnumerable<DraftRecipient> MissingVariables => Recipients.Where(r => r.Number is not null && r.Missing.Count > 0 && !r.Duplicate);
    public IEnumerable<DraftRecipient> Duplicates => Recipients.Where(r => r.Duplicate);
    public int SendableCount => Recipients.Count(r => r.Sendable);

    private RecipientDraft(IReadOnlyList<string> columns, int numberColumn, IReadOnlyList<DraftRecipient> recipients)
    {
        Columns = columns;
        NumberColumn = numberColumn;
        Recipients = recipients;
    }

    public static RecipientDraft Empty { get; } = new([], 0, []);

    /// <summary>Variable names for the columns: the header made safe for <c>{{name}}</c>, or <c>column_N</c>.</summary>
    public static IReadOnlyList<string> ColumnNames(IReadOnlyList<CampaignCsv.Row> rows, bool hasHeader)
    {
        var count = rows.Count == 0 ? 0 : rows.Max(r => r.Cells.Count);
        var names = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var header = hasHeader && rows.Count > 0 && i < rows[0].Cells.Count ? VariableName(rows[0].Cells[i]) : "";
            var name = header.Length > 0 ? header : $"column_{i + 1}";
            var unique = name;
            for (var n = 2; names.Contains(unique, StringComparer.OrdinalIgnoreCase); n++)
                unique = $"{name}_{n}";
            names.Add(unique);
        }
        return names;
    }

    public static string VariableName(string header)
    {
        var name = NonWord().Replace(header.Trim().ToLowerInvariant(), "_").Trim('_');
        if (name.Length > 0 && char.IsAsciiDigit(name[0]))
            name = "_" + name;
        return name;
    }

    /// <summary>True when the first row looks like column titles: none of its cells is a number, while the next row has one.</summary>
    public static bool GuessHeader(IReadOnlyList<CampaignCsv.Row> rows, string? defaultCountry)
    {
        if (rows.Count == 0)
            return false;
        if (rows[0].Cells.Any(c => IsNumber(c, defaultCountry)))
            return false;
        return rows.Count == 1 ? rows[0].Cells.Any(c => c.Any(char.IsLetter)) : rows[1].Cells.Any(c => IsNumber(c, defaultCountry));
    }

    /// <summary>The column that holds the numbers: by its header, else the one whose cells most often read as numbers.</summary>
    public static int GuessNumberColumn(IReadOnlyList<CampaignCsv.Row> rows, bool hasHeader, string? defaultCountry)
    {
        if (rows.Count == 0)
            return 0;
        if (hasHeader)
        {
            var header = rows[0].Cells.Select(VariableName).ToList();
            foreach (var candidate in NumberHeaders)
                if (header.IndexOf(candidate) is var at and >= 0)
                    return at;
            var partial = header.FindIndex(h => h.Contains("phone", StringComparison.Ordinal) || h.Contains("number", StringComparison.Ordinal));
            if (partial >= 0)
                return partial;
        }
        var data = rows.Skip(hasHeader ? 1 : 0).Take(50).ToList();
        var width = rows.Max(r => r.Cells.Count);
        var best = 0;
        var bestScore = -1;
        for (var i = 0; i < width; i++)
        {
            var score = data.Count(r => i < r.Cells.Count && IsNumber(r.Cells[i], defaultCountry));
            if (score > bestScore)
                (best, bestScore) = (i, score);
        }
        return best;
    }

    public static RecipientDraft Build(IReadOnlyList<CampaignCsv.Row> rows, bool hasHeader, int numberColumn, string? defaultCountry, string? message)
    {
        if (rows.Count == 0 || (hasHeader && rows.Count == 1))
            return new RecipientDraft(ColumnNames(rows, hasHeader), numberColumn, []);
        var columns = ColumnNames(rows, hasHeader);
        var variablesUsed = CampaignTemplate.Variables(message);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var recipients = new List<DraftRecipient>(rows.Count);
        foreach (var row in rows.Skip(hasHeader ? 1 : 0))
        {
            var input = numberColumn < row.Cells.Count ? row.Cells[numberColumn] : "";
            var variables = new JsonObject();
            for (var i = 0; i < columns.Count; i++)
                if (i != numberColumn && i < row.Cells.Count && row.Cells[i].Length > 0)
                    variables[columns[i]] = row.Cells[i];
            string? number = null, error = null;
            try
            {
                number = WhatsAppNumbers.Normalize(input, "phone_number", defaultCountry);
            }
            catch (WapBridgeException e)
            {
                error = DashboardErrors.Relabel(e.Message, new Dictionary<string, string> { ["phone_number"] = $"Recipients: line {row.Line}" });
            }
            IReadOnlyList<string> missing = [];
            if (number is not null && variablesUsed.Count > 0)
                missing = CampaignTemplate.Render(message, variables, number).Missing.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var duplicate = number is not null && !seen.Add(number);
            recipients.Add(new DraftRecipient(row.Line, input, number, variables, error, missing, duplicate));
        }
        return new RecipientDraft(columns, numberColumn, recipients);
    }

    /// <summary>The first <paramref name="count"/> messages as their recipients will read them.</summary>
    public IReadOnlyList<RenderedPreview> Previews(string? message, int count = 3) =>
        Recipients.Where(r => r.Sendable).Select(r => (r, CampaignTemplate.Render(message, r.Variables, r.Number!).Text))
            .Where(x => x.Text is not null).Take(count).Select(x => new RenderedPreview(x.r.Line, x.r.Number!, x.Text!)).ToList();

    /// <summary>
    /// The <c>recipients</c> array for <see cref="CampaignService.CreateAsync"/>. Invalid numbers go too, so the campaign
    /// counts them; duplicates are left to the server as well. Rows missing a variable are left out when asked.
    /// </summary>
    public JsonArray ToJson(bool leaveOutMissing)
    {
        var array = new JsonArray();
        foreach (var r in Recipients)
        {
            if (leaveOutMissing && r.Number is not null && r.Missing.Count > 0)
                continue;
            var item = new JsonObject { ["phone_number"] = r.Input };
            foreach (var (key, value) in r.Variables)
                if (!string.Equals(key, "phone_number", StringComparison.OrdinalIgnoreCase))
                    item[key] = value?.DeepClone();
            array.Add(item);
        }
        return array;
    }

    private static bool IsNumber(string cell, string? defaultCountry)
    {
        try
        {
            WhatsAppNumbers.Normalize(cell, "phone_number", defaultCountry);
            return true;
        }
        catch (WapBridgeException)
        {
            return false;
        }
    }

    [GeneratedRegex("[^a-z0-9_]+")]
    private static partial Regex NonWord();
}
