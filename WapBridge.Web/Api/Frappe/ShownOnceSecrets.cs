using System.Text.Json;
using System.Text.Json.Nodes;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// The copy of an answer kept for Idempotency-Key retries must not hold a secret that is shown once (contract §1):
/// its secrets are masked, and a note in <c>_server_messages</c> tells the retrying client why.
/// </summary>
public static class ShownOnceSecrets
{
    public const string Note =
        "This is a replay of an earlier answer to the same Idempotency-Key. Secrets in it were shown only once, in that first "
        + "answer, and WapBridge does not keep them, so they are masked here. If the first answer was lost, make a new secret "
        + "(a new API key, or set_webhook with generate_secret) and retire the old one.";

    public static string Mask(string body, IReadOnlyList<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(body) is not JsonObject root)
            return body;
        MaskStrings(root, secrets);

        // Frappe's _server_messages: a JSON list of JSON-encoded message objects, with Python's separators.
        var messages = new List<string>();
        if (root["_server_messages"] is JsonValue existing && existing.TryGetValue<string>(out var list)
            && JsonNode.Parse(list) is JsonArray earlier)
            messages.AddRange(earlier.Select(m => m?.GetValue<string>()).OfType<string>());
        messages.Add("{\"message\": " + JsonSerializer.Serialize(Note, FrappeJson.Options) + ", \"indicator\": \"orange\"}");
        root["_server_messages"] = "[" + string.Join(", ", messages.Select(m => JsonSerializer.Serialize(m, FrappeJson.Options))) + "]";
        return root.ToJsonString(FrappeJson.Options);
    }

    /// <summary>Shaped like the masked secrets elsewhere (get_webhook): bullets and the last four characters.</summary>
    public static string Masked(string secret) => new string('•', 8) + (secret.Length > 12 ? secret[^4..] : "");

    private static void MaskStrings(JsonNode node, IReadOnlyList<string> secrets)
    {
        var children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value).ToList(),
            JsonArray array => array.ToList(),
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is JsonValue leaf && leaf.TryGetValue<string>(out var text))
            {
                var masked = secrets.Where(s => s.Length > 0)
                    .Aggregate(text, (current, secret) => current.Replace(secret, Masked(secret), StringComparison.Ordinal));
                if (masked != text)
                    leaf.ReplaceWith(masked);
            }
            else if (child is not null)
                MaskStrings(child, secrets);
        }
    }
}
