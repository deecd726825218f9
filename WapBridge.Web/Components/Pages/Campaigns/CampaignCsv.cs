using System.Text;

namespace WapBridge.Web.Components.Pages.Campaigns;

/// <summary>
/// A small RFC 4180 reader for recipient lists: quoted fields (with doubled quotes, commas and line breaks inside),
/// CRLF or LF line ends, a leading byte-order mark, and comma, semicolon or tab separators (whichever the first line uses most).
/// Blank lines are dropped; rows keep their 1-based line number in the file for error messages.
/// </summary>
public static class CampaignCsv
{
    public sealed record Row(int Line, IReadOnlyList<string> Cells);

    public static char DetectSeparator(string text)
    {
        var firstLine = text.AsSpan();
        var end = firstLine.IndexOfAny('\r', '\n');
        if (end >= 0)
            firstLine = firstLine[..end];
        int commas = 0, semicolons = 0, tabs = 0;
        var quoted = false;
        foreach (var c in firstLine)
        {
            if (c == '"') quoted = !quoted;
            else if (quoted) continue;
            else if (c == ',') commas++;
            else if (c == ';') semicolons++;
            else if (c == '\t') tabs++;
        }
        return tabs > 0 && tabs >= commas && tabs >= semicolons ? '\t' : semicolons > commas ? ';' : ',';
    }

    public static IReadOnlyList<Row> Parse(string? text, char? separator = null)
    {
        var rows = new List<Row>();
        if (string.IsNullOrEmpty(text))
            return rows;
        if (text[0] == '\uFEFF')
            text = text[1..];
        var sep = separator ?? DetectSeparator(text);
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        var line = 1;
        var rowLine = 1;
        var cellWasQuoted = false;

        void EndCell()
        {
            cells.Add(cellWasQuoted ? cell.ToString() : cell.ToString().Trim());
            cell.Clear();
            cellWasQuoted = false;
        }

        void EndRow()
        {
            EndCell();
            if (cells.Count > 1 || cells[0].Length > 0)
                rows.Add(new Row(rowLine, cells.ToArray()));
            cells.Clear();
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        cell.Append('"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    if (c == '\n')
                        line++;
                    cell.Append(c);
                }
                continue;
            }
            if (c == '"' && cell.ToString().Trim().Length == 0)
            {
                // An opening quote (spaces before it are dropped).
                cell.Clear();
                quoted = true;
                cellWasQuoted = true;
            }
            else if (c == sep)
            {
                EndCell();
            }
            else if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                    i++;
                EndRow();
                line++;
                rowLine = line;
            }
            else if (cellWasQuoted)
            {
                // Text after a closing quote ("a"b): kept, as spreadsheets do, except spaces.
                if (!char.IsWhiteSpace(c))
                    cell.Append(c);
            }
            else
            {
                cell.Append(c);
            }
        }
        if (cell.Length > 0 || cells.Count > 0 || cellWasQuoted)
            EndRow();
        return rows;
    }

    /// <summary>Pasted numbers: one a line; commas, semicolons and tabs also separate, blank entries are dropped.</summary>
    public static IReadOnlyList<Row> ParseLines(string? text)
    {
        var rows = new List<Row>();
        if (string.IsNullOrEmpty(text))
            return rows;
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        for (var i = 0; i < lines.Length; i++)
            foreach (var part in lines[i].Split([',', ';', '\t']))
                if (part.Trim() is { Length: > 0 } entry)
                    rows.Add(new Row(i + 1, [entry]));
        return rows;
    }

    /// <summary>Quotes a value for a CSV file when it needs it.</summary>
    public static string Escape(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        // A leading = + - @ would run as a formula in a spreadsheet: keep it text.
        if (value[0] is '=' or '+' or '-' or '@' && !IsNumberLike(value))
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\r', '\n', ';']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    private static bool IsNumberLike(string value) => value.Length > 1 && value.Skip(1).All(c => char.IsDigit(c) || c is ' ' or '-' or '(' or ')');

    public static string Write(IEnumerable<IEnumerable<string?>> rows)
    {
        var sb = new StringBuilder();
        foreach (var row in rows)
            sb.Append(string.Join(',', row.Select(Escape))).Append("\r\n");
        return sb.ToString();
    }
}
