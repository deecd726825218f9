using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WapBridge.Core.Campaigns;

/// <summary>Fills <c>{{variables}}</c> from a recipient's values; a missing one is an error, never a raw <c>{{…}}</c> on a customer's phone.</summary>
public static partial class CampaignTemplate
{
    public static IReadOnlyList<string> Variables(string? template) =>
        template is null ? [] : Placeholder().Matches(template).Select(m => m.Groups[1].Value).Distinct().ToList();

    /// <summary>The rendered text, or the names of the variables the recipient lacks.</summary>
    public static (string? Text, IReadOnlyList<string> Missing) Render(string? template, JsonObject? values, string number)
    {
        if (template is null)
            return (null, []);
        var missing = new List<string>();
        var text = Placeholder().Replace(template, m =>
        {
            var name = m.Groups[1].Value;
            if (name is "phone_number" or "number")
                return number;
            var value = values is null ? null
                : values.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
            var text = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString();
            if (string.IsNullOrWhiteSpace(text))
            {
                missing.Add(name);
                return m.Value;
            }
            return text;
        });
        return missing.Count > 0 ? (null, missing) : (text, missing);
    }

    [GeneratedRegex(@"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")]
    private static partial Regex Placeholder();
}
