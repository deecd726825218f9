using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// A template's body variables and Graph's <c>components</c> that fill them: positional (<c>{{1}}</c>, <c>{{2}}</c>,
/// filled in number order) or named (<c>{{first_name}}</c>, each parameter carrying its <c>parameter_name</c>).
/// </summary>
public static partial class TemplateParameters
{
    /// <summary>The body's placeholders, each once: positional ones in number order, named ones as they appear.</summary>
    public static IReadOnlyList<string> VariablesOf(string? body)
    {
        if (body is null)
            return [];
        var names = Placeholder().Matches(body).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();
        return IsPositional(names) ? names.OrderBy(n => int.Parse(n, CultureInfo.InvariantCulture)).ToList() : names;
    }

    /// <summary>Whether the variables are numbered (<c>{{1}}</c>) rather than named; a template uses one kind.</summary>
    public static bool IsPositional(IReadOnlyList<string> variables) => variables.All(v => v.Length is > 0 and <= 3 && v.All(char.IsAsciiDigit));

    /// <summary>Graph's <c>components</c> with one body parameter per variable; null when the template has none.</summary>
    public static JsonArray? BodyComponents(IReadOnlyList<string> variables, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
            return null;
        var positional = IsPositional(variables);
        var parameters = new JsonArray();
        for (var i = 0; i < values.Count; i++)
        {
            var parameter = new JsonObject { ["type"] = "text" };
            if (!positional)
                parameter["parameter_name"] = variables[i];
            parameter["text"] = values[i];
            parameters.Add(parameter);
        }
        return [new JsonObject { ["type"] = "body", ["parameters"] = parameters }];
    }

    /// <summary>The body as the contact will read it (what the message log shows).</summary>
    public static string Render(string body, IReadOnlyList<string> variables, IReadOnlyList<string> values) =>
        Placeholder().Replace(body, m =>
        {
            var index = IndexOf(variables, m.Groups[1].Value);
            return index >= 0 && index < values.Count ? values[index] : m.Value;
        });

    /// <summary>
    /// A value as Meta accepts it in a parameter: Graph refuses one with a line break, a tab or more than four spaces
    /// in a row, so whitespace runs become one space (a multi-line text arrives as one paragraph rather than not at all).
    /// </summary>
    public static string Flatten(string text) => Whitespace().Replace(text, " ").Trim();

    /// <summary>
    /// A campaign recipient's values for the template's <paramref name="variables"/>: named ones by name (case-insensitive;
    /// <c>phone_number</c>/<c>number</c> is the recipient's number), positional ones by number (<c>"1"</c>, <c>"2"</c>, …)
    /// or else the recipient's values in the order given. Null <paramref name="variables"/> (the template could not be
    /// read) sends the recipient's values in order. Missing: the variables the recipient lacks.
    /// </summary>
    public static (IReadOnlyList<string> Values, IReadOnlyList<string> Missing) ValuesFor(IReadOnlyList<string>? variables, JsonObject? recipient, string number)
    {
        var given = (recipient ?? []).Where(p => p.Value is not null).Select(p => (p.Key, Text: TextOf(p.Value!))).ToList();
        var numbered = given.Where(p => p.Key.All(char.IsAsciiDigit) && p.Key.Length is > 0 and <= 3).ToList();
        if (variables is null)
        {
            var inOrder = numbered.Count > 0 ? numbered.OrderBy(p => int.Parse(p.Key, CultureInfo.InvariantCulture)).ToList() : given;
            return (inOrder.Select(p => Flatten(p.Text)).ToList(), []);
        }
        var values = new List<string>(variables.Count);
        var missing = new List<string>();
        var positional = IsPositional(variables);
        for (var i = 0; i < variables.Count; i++)
        {
            var name = variables[i];
            string? value = positional
                ? numbered.Count > 0 ? numbered.FirstOrDefault(p => int.Parse(p.Key, CultureInfo.InvariantCulture) == int.Parse(name, CultureInfo.InvariantCulture)).Text
                    : i < given.Count ? given[i].Text : null
                : name is "phone_number" or "number" ? number
                : given.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Text;
            if (string.IsNullOrWhiteSpace(value))
                missing.Add(name);
            else
                values.Add(Flatten(value));
        }
        return (missing.Count == 0 ? values : [], missing);
    }

    private static string TextOf(JsonNode value) =>
        value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

    private static int IndexOf(IReadOnlyList<string> variables, string name)
    {
        for (var i = 0; i < variables.Count; i++)
            if (variables[i] == name)
                return i;
        return -1;
    }

    // Meta's placeholders: {{1}} or a lowercase name (letters, digits, underscores).
    [GeneratedRegex(@"\{\{\s*([0-9]{1,3}|[a-z_][a-z0-9_]*)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
