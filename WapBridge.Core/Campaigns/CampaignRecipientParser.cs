using System.Text.Json.Nodes;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Campaigns;

/// <summary>One entry of <c>recipients</c> as given, and its validated number or why it has none.</summary>
internal sealed record ParsedRecipient(string Input, string? Number, string? Error, JsonObject? Variables);

/// <summary>The <c>recipients</c> argument of a campaign (numbers, or objects with a number and variables), read and validated.</summary>
internal static class CampaignRecipientParser
{
    /// <summary>The entries of <c>recipients</c>, at most <paramref name="cap"/> of them (<see cref="CampaignOptions.MaxRecipientsPerRequest"/>).</summary>
    public static List<JsonNode?> Items(JsonNode recipients, int cap)
    {
        var items = recipients is JsonArray array ? array.ToList() : [recipients];
        if (items.Count == 0)
            throw WapBridgeException.Invalid("recipients", "no_recipients", "recipients is empty");
        if (items.Count > cap)
            throw WapBridgeException.Invalid("recipients", "too_many_recipients",
                $"recipients has {items.Count:N0} entries; one request may carry at most {cap:N0}: send the first {cap:N0} here and the rest with add_campaign_recipients, up to {cap:N0} per call.");
        return items;
    }

    public static List<ParsedRecipient> Parse(List<JsonNode?> items, string? defaultCountry) =>
        // Number parsing is most of a big create's time and each item stands alone: use every core, keep the order.
        items.Count < 2000
            ? items.Select(item => ParseOne(item, defaultCountry)).ToList()
            : items.AsParallel().AsOrdered().Select(item => ParseOne(item, defaultCountry)).ToList();

    /// <summary>The recipients with a valid number, with their place in the request.</summary>
    public static IEnumerable<(int Index, string Input, string Number, JsonObject? Values)> Valid(List<ParsedRecipient> parsed) =>
        parsed.Select((p, i) => (i, p)).Where(x => x.p.Number is not null).Select(x => (x.i, x.p.Input, x.p.Number!, x.p.Variables));

    private static ParsedRecipient ParseOne(JsonNode? item, string? defaultCountry)
    {
        string? raw;
        JsonObject? variables = null;
        if (item is JsonObject obj)
        {
            var numberKey = new[] { "phone_number", "to_number", "number", "phone", "mobile" }.FirstOrDefault(k => obj[k] is not null);
            raw = numberKey is null ? null : obj[numberKey]!.ToString();
            variables = new JsonObject(obj.Where(p => p.Key != numberKey).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
            if (raw is null)
                return new ParsedRecipient(obj.ToJsonString(), null, "no phone_number or to_number in this recipient", null);
        }
        else
        {
            raw = item?.ToString();
        }
        try
        {
            return new ParsedRecipient(raw ?? "", WhatsAppNumbers.Normalize(raw, "recipients", defaultCountry), null, variables);
        }
        catch (WapBridgeException e)
        {
            return new ParsedRecipient(raw ?? "", null, e.Message, variables);
        }
    }
}
