using System.Text.Json;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// Frappe drops the arguments a method does not take, and so do we (contract §1): ERPNext and Frappe clients send
/// extras. But a misspelt name (<c>name</c> for <c>campaign_name</c>, <c>message_id</c> for <c>id</c>) would then
/// change the result without a word, so each one is named in the answer's <c>_server_messages</c> with the closest
/// name the method knows. Names only: a value may be a secret or personal data.
/// </summary>
public static class UnknownArguments
{
    /// <summary>The arguments sent that the method does not take, in the order sent, each with its closest known name.</summary>
    public static IReadOnlyList<(string Name, string? Suggestion)> Find(IEnumerable<string> sent, IReadOnlyList<string> known) =>
        sent.Where(name => !known.Contains(name, StringComparer.OrdinalIgnoreCase))
            .Select(name => (name, Closest(name, known)))
            .ToList();

    public static string Note((string Name, string? Suggestion) unknown, IReadOnlyList<string> known) =>
        unknown.Suggestion is { } suggestion
            ? $"Unknown argument `{Shown(unknown.Name)}` was ignored; did you mean `{suggestion}`?"
            : $"Unknown argument `{Shown(unknown.Name)}` was ignored; this method takes "
              + (known.Count == 0 ? "no arguments." : string.Join(", ", known.Select(k => $"`{k}`")) + ".");

    /// <summary>
    /// A known name sharing the unknown one's words (<c>name</c> → <c>campaign_name</c>, <c>message_id</c> → <c>id</c>),
    /// else one a few typing slips away (<c>to_numbr</c> → <c>to_number</c>); null when nothing is close.
    /// </summary>
    public static string? Closest(string unknown, IReadOnlyList<string> known)
    {
        if (unknown.Length > 64)
            return null;
        var lower = unknown.ToLowerInvariant().Replace('-', '_');
        var words = Words(lower);
        var sharing = known
            .Where(k => words.Count > 0 && Words(k) is var kw && (kw.IsSubsetOf(words) || words.IsSubsetOf(kw)))
            .OrderBy(k => Distance(lower, k)).ToList();
        if (sharing.Count > 0)
            return sharing[0];
        var (best, distance) = known.Select(k => (k, Distance(lower, k))).OrderBy(p => p.Item2).FirstOrDefault();
        return best is not null && distance <= Math.Max(2, lower.Length / 3) ? best : null;
    }

    /// <summary>Frappe's <c>_server_messages</c>: a JSON list of JSON-encoded message objects, with Python's separators.</summary>
    public static string ServerMessages(IEnumerable<(string Text, string Indicator)> messages) =>
        "[" + string.Join(", ", messages.Select(m => JsonSerializer.Serialize(
            "{\"message\": " + JsonSerializer.Serialize(m.Text, FrappeJson.Options) + ", \"indicator\": \"" + m.Indicator + "\"}", FrappeJson.Options))) + "]";

    private static HashSet<string> Words(string name) =>
        name.Split('_', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    // A name is the client's text: shown, but bounded, so a fuzzer's megabyte name does not come back in the answer.
    private static string Shown(string name) => name.Length <= 64 ? name : name[..64] + "…";

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
