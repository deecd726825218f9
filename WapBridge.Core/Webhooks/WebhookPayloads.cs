using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WapBridge.Core.Engines;

namespace WapBridge.Core.Webhooks;

/// <summary>What an inbound message webhook says about its media.</summary>
public sealed record PayloadMedia(string MimeType, string? FileName, long Size, byte[]? InlineData, string Url);

/// <summary>
/// Builds webhook bodies in the contract's shape (§5): the seed's <c>message</c> payload key for key and in
/// the seed's order, our additive keys after; other events in the <c>{event, instance_id, customer, timestamp, data}</c> envelope.
/// </summary>
public static class WebhookPayloads
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string InboundMessage(
        string instanceCode, string customerCode, string? instancePhone, string serializedId, InboundEngineMessage message, PayloadMedia? media)
    {
        var sender = message.FromPhone is not null ? message.FromPhone + "@c.us" : message.FromLid!;
        var isGroup = message.GroupId is not null;
        var body = new JsonObject
        {
            ["id"] = serializedId,
            ["from"] = isGroup ? message.GroupId : sender,
            ["to"] = instancePhone is null ? null : instancePhone + "@c.us",
            ["body"] = message.Body ?? "",
            ["fromMe"] = false,
            ["timestamp"] = message.Timestamp.ToUnixTimeSeconds(),
            ["type"] = message.Type,
            ["hasMedia"] = media is not null || message.MediaError is not null,
        };
        if (media is not null)
        {
            body["caption"] = message.Body;
            var mediaNode = new JsonObject { ["mimetype"] = media.MimeType, ["filename"] = media.FileName };
            if (media.InlineData is not null)
                mediaNode["data"] = Convert.ToBase64String(media.InlineData);
            mediaNode["filesize"] = media.Size;
            mediaNode["url"] = media.Url;
            body["media"] = mediaNode;
        }
        else if (message.MediaError is { } mediaError)
        {
            // The media finally could not be downloaded: the webhook says so instead of promising a file.
            body["caption"] = message.Body;
            body["media"] = new JsonObject { ["error"] = mediaError };
        }
        body["fromLid"] = message.FromLid;
        body["fromPhone"] = message.FromPhone;
        body["pushName"] = message.PushName;
        body["author"] = isGroup ? sender : null;
        body["isGroup"] = isGroup;
        body["quotedId"] = message.QuotedId;
        body["hasQuotedMsg"] = message.QuotedId is not null;
        if (message.QuotedId is not null)
            body["quotedBody"] = message.QuotedBody;
        // Further additive keys, present only on the message types that carry them.
        if (message.Location is { } location)
            body["location"] = new JsonObject
            {
                ["latitude"] = location.Latitude,
                ["longitude"] = location.Longitude,
                ["name"] = location.Name,
                ["address"] = location.Address,
                ["url"] = location.Url,
                // whatsapp-web.js's Location.description: the name and address, one per line.
                ["description"] = string.Join('\n', new[] { location.Name, location.Address }.Where(s => !string.IsNullOrEmpty(s))),
            };
        if (message.VCards is { } vcards)
            body["vCards"] = new JsonArray(vcards.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        if (message.Reaction is { } reaction)
            body["reaction"] = new JsonObject { ["emoji"] = reaction.Emoji, ["msgId"] = reaction.TargetId };
        if (message.Poll is { } poll)
        {
            // whatsapp-web.js's names, beside our poll object.
            body["pollName"] = poll.Name;
            body["pollOptions"] = new JsonArray(poll.Options.Select((o, i) => (JsonNode?)new JsonObject { ["name"] = o, ["localId"] = i }).ToArray());
            body["allowMultipleAnswers"] = poll.SelectableCount != 1;
            body["poll"] = new JsonObject
            {
                ["name"] = poll.Name,
                ["options"] = new JsonArray(poll.Options.Select(o => (JsonNode?)JsonValue.Create(o)).ToArray()),
                ["selectableCount"] = poll.SelectableCount,
            };
        }
        if (message.RevokedId is { } revokedId)
            body["revokedId"] = revokedId;
        if (message.SelectedButtonId is { } buttonId)
            body["selectedButtonId"] = buttonId;
        if (message.SelectedRowId is { } rowId)
            body["selectedRowId"] = rowId;

        var root = new JsonObject
        {
            ["event"] = WebhookEvents.Message,
            ["instance_id"] = instanceCode,
            ["customer"] = customerCode,
            ["phone_number"] = instancePhone,
            ["message"] = body,
        };
        return root.ToJsonString(Compact);
    }

    public static string Event(string eventType, string? instanceCode, string customerCode, DateTimeOffset at, JsonObject data) =>
        new JsonObject
        {
            ["event"] = eventType,
            ["instance_id"] = instanceCode,
            ["customer"] = customerCode,
            ["timestamp"] = at.ToUnixTimeSeconds(),
            ["data"] = data,
        }.ToJsonString(Compact);
}
