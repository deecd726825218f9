using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// Meta's <c>messages</c> webhook payloads as the Cloud API sends them to an instance's callback URL (inbound messages
/// of every kind, statuses of ours including failures with Meta's error code), and <see cref="PostAsync(HttpClient, string, string, JsonObject, string?)"/>,
/// which signs one with the app secret (<c>X-Hub-Signature-256</c>) and posts it as Meta would.
/// </summary>
public static class MetaWebhooks
{
    public const string SignatureHeader = "X-Hub-Signature-256";

    /// <summary>A fresh <c>wamid</c> shaped like Meta's.</summary>
    public static string NewWamid() => "wamid.HBgM" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)).Replace('+', 'A').Replace('/', 'B');

    /// <summary>A callback with inbound <paramref name="messages"/> to the business number <paramref name="phoneNumberId"/>; each sender is listed in <c>contacts</c> with <paramref name="senderName"/>.</summary>
    public static JsonObject Inbound(string phoneNumberId, string? senderName, params JsonObject[] messages)
    {
        var senders = messages.Select(m => m["from"]!.GetValue<string>()).Distinct()
            .Select(from => (JsonNode?)new JsonObject { ["profile"] = new JsonObject { ["name"] = senderName }, ["wa_id"] = from }).ToArray();
        return Envelope(phoneNumberId, new JsonObject
        {
            ["contacts"] = new JsonArray(senders),
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode?)m).ToArray()),
        });
    }

    /// <summary>A callback with statuses of messages the business number <paramref name="phoneNumberId"/> sent.</summary>
    public static JsonObject Statuses(string phoneNumberId, params JsonObject[] statuses) =>
        Envelope(phoneNumberId, new JsonObject { ["statuses"] = new JsonArray(statuses.Select(s => (JsonNode?)s).ToArray()) });

    public static JsonObject Text(string from, string body, string? wamid = null, string? replyTo = null, long? timestamp = null) =>
        Message(from, "text", new JsonObject { ["body"] = body }, wamid, replyTo, timestamp);

    /// <summary>image, video, audio, document or sticker held by Graph as <paramref name="mediaId"/>.</summary>
    public static JsonObject Media(string from, string kind, string mediaId, string mimeType, string? caption = null, string? fileName = null,
        bool voice = false, string? wamid = null)
    {
        var media = new JsonObject { ["mime_type"] = mimeType, ["sha256"] = "ignored-by-the-webhook", ["id"] = mediaId };
        if (caption is not null)
            media["caption"] = caption;
        if (fileName is not null)
            media["filename"] = fileName;
        if (voice)
            media["voice"] = true;
        return Message(from, kind, media, wamid);
    }

    public static JsonObject Location(string from, double latitude, double longitude, string? name = null, string? address = null, string? wamid = null)
    {
        var place = new JsonObject { ["latitude"] = latitude, ["longitude"] = longitude };
        if (name is not null)
            place["name"] = name;
        if (address is not null)
            place["address"] = address;
        return Message(from, "location", place, wamid);
    }

    /// <summary>Shared contact cards (name and one WhatsApp number each).</summary>
    public static JsonObject Contacts(string from, params (string Name, string Number)[] cards)
    {
        var message = Message(from, "contacts", null, null);
        message["contacts"] = new JsonArray(cards.Select(c => (JsonNode?)new JsonObject
        {
            ["name"] = new JsonObject { ["formatted_name"] = c.Name, ["first_name"] = c.Name.Split(' ')[0] },
            ["phones"] = new JsonArray(new JsonObject { ["phone"] = "+" + c.Number, ["wa_id"] = c.Number, ["type"] = "CELL" }),
        }).ToArray());
        return message;
    }

    /// <summary>A tap on a reply button of an interactive message the business sent (<paramref name="replyTo"/>).</summary>
    public static JsonObject ButtonReply(string from, string id, string title, string? replyTo = null) =>
        Message(from, "interactive", new JsonObject { ["type"] = "button_reply", ["button_reply"] = new JsonObject { ["id"] = id, ["title"] = title } }, null, replyTo);

    public static JsonObject ListReply(string from, string id, string title, string? replyTo = null) =>
        Message(from, "interactive", new JsonObject
        {
            ["type"] = "list_reply",
            ["list_reply"] = new JsonObject { ["id"] = id, ["title"] = title, ["description"] = "a row" },
        }, null, replyTo);

    /// <summary>A tap on a template's quick-reply button.</summary>
    public static JsonObject TemplateButton(string from, string payload, string text, string? replyTo = null) =>
        Message(from, "button", new JsonObject { ["payload"] = payload, ["text"] = text }, null, replyTo);

    /// <summary>A reaction to <paramref name="targetWamid"/>; a null emoji takes it back (Meta then leaves the emoji out).</summary>
    public static JsonObject Reaction(string from, string targetWamid, string? emoji, string? wamid = null)
    {
        var reaction = new JsonObject { ["message_id"] = targetWamid };
        if (emoji is not null)
            reaction["emoji"] = emoji;
        return Message(from, "reaction", reaction, wamid);
    }

    /// <summary><c>sent</c>, <c>delivered</c>, <c>read</c> of one of our messages (<paramref name="wamid"/>: Graph's id of it).</summary>
    public static JsonObject Status(string wamid, string status, string recipient, long? timestamp = null) => new()
    {
        ["id"] = wamid,
        ["status"] = status,
        ["timestamp"] = (timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture),
        ["recipient_id"] = recipient,
    };

    /// <summary>A <c>failed</c> status with Meta's error (e.g. 131047 "Re-engagement message").</summary>
    public static JsonObject Failed(string wamid, string recipient, int code, string title, string? details = null)
    {
        var status = Status(wamid, "failed", recipient);
        var error = new JsonObject { ["code"] = code, ["title"] = title, ["message"] = title };
        if (details is not null)
            error["error_data"] = new JsonObject { ["details"] = details };
        error["href"] = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";
        status["errors"] = new JsonArray(error);
        return status;
    }

    /// <summary><c>sha256=&lt;hex&gt;</c>: the HMAC-SHA256 of the exact body, keyed with the app secret.</summary>
    public static string Sign(string body, string appSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), Encoding.UTF8.GetBytes(body)));

    /// <summary>Posts <paramref name="payload"/> to the instance's callback URL, signed with <paramref name="appSecret"/> unless <paramref name="signature"/> is given ("" sends none).</summary>
    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string instanceId, string appSecret, JsonObject payload, string? signature = null) =>
        PostRawAsync(client, instanceId, appSecret, payload.ToJsonString(), signature);

    public static async Task<HttpResponseMessage> PostAsync(Uri server, string instanceId, string appSecret, JsonObject payload, string? signature = null)
    {
        using var client = new HttpClient { BaseAddress = server };
        return await PostAsync(client, instanceId, appSecret, payload, signature);
    }

    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string instanceId, string appSecret, string body, string? signature = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/cloudapi/" + instanceId)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        signature ??= Sign(body, appSecret);
        if (signature.Length > 0)
            request.Headers.TryAddWithoutValidation(SignatureHeader, signature);
        return client.SendAsync(request);
    }

    private static JsonObject Message(string from, string type, JsonObject? content, string? wamid, string? replyTo = null, long? timestamp = null)
    {
        var message = new JsonObject
        {
            ["from"] = from,
            ["id"] = wamid ?? NewWamid(),
            ["timestamp"] = (timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture),
            ["type"] = type,
        };
        if (replyTo is not null)
            message["context"] = new JsonObject { ["from"] = "15550783881", ["id"] = replyTo };
        if (content is not null)
            message[type] = content;
        return message;
    }

    private static JsonObject Envelope(string phoneNumberId, JsonObject value)
    {
        value["messaging_product"] = "whatsapp";
        value["metadata"] = new JsonObject { ["display_phone_number"] = "15550783881", ["phone_number_id"] = phoneNumberId };
        // metadata first, as Meta writes it.
        var ordered = new JsonObject { ["messaging_product"] = "whatsapp", ["metadata"] = value["metadata"]!.DeepClone() };
        foreach (var (key, node) in value.ToList())
            if (key is not ("messaging_product" or "metadata"))
                ordered[key] = node?.DeepClone();
        return new JsonObject
        {
            ["object"] = "whatsapp_business_account",
            ["entry"] = new JsonArray(new JsonObject
            {
                ["id"] = "102290129340398",
                ["changes"] = new JsonArray(new JsonObject { ["value"] = ordered, ["field"] = "messages" }),
            }),
        };
    }
}
