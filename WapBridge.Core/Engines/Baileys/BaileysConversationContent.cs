using System.Text;
using System.Text.Json.Nodes;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// A send's conversation fields as the bridge's <c>send</c> takes them (PROTOCOL.md "Conversations"): one content kind
/// (<c>reaction</c>, <c>location</c>, <c>contacts</c>, <c>poll</c>, <c>edit</c>, <c>delete</c>), and the reply
/// (<c>quoted</c>) and <c>mentions</c> that go with text, media and most kinds. Pure: the quoted content is looked up by
/// the caller.
/// </summary>
internal static class BaileysConversationContent
{
    /// <summary>Sets the field of <paramref name="content"/> on <paramref name="parameters"/>.</summary>
    public static void AddContent(JsonObject parameters, OutgoingContent content)
    {
        switch (content)
        {
            case OutgoingReaction reaction:
                parameters["reaction"] = new JsonObject { ["key"] = Key(reaction.Target), ["emoji"] = reaction.Emoji };
                break;
            case OutgoingLocation location:
                var place = new JsonObject { ["latitude"] = location.Latitude, ["longitude"] = location.Longitude };
                if (!string.IsNullOrEmpty(location.Name))
                    place["name"] = location.Name;
                if (!string.IsNullOrEmpty(location.Address))
                    place["address"] = location.Address;
                parameters["location"] = place;
                break;
            case OutgoingContacts contacts:
                parameters["contacts"] = new JsonArray(contacts.Contacts
                    .Select(c => (JsonNode?)new JsonObject { ["name"] = c.Name, ["number"] = c.Number }).ToArray());
                break;
            case OutgoingPoll poll:
                parameters["poll"] = new JsonObject
                {
                    ["name"] = poll.Name,
                    ["options"] = new JsonArray(poll.Options.Select(o => (JsonNode?)o).ToArray()),
                    ["selectableCount"] = poll.SelectableCount,
                };
                break;
            case OutgoingEdit edit:
                parameters["edit"] = new JsonObject { ["key"] = Key(edit.Target), ["text"] = edit.Text };
                break;
            case OutgoingDelete delete:
                parameters["delete"] = new JsonObject { ["key"] = Key(delete.Target) };
                break;
            default:
                throw new EngineFeatureUnavailableException(content.Feature);
        }
    }

    /// <summary>Whether the bridge takes <c>mentions</c> with this send (not with a reaction or a delete).</summary>
    public static bool TakesMentions(OutgoingContent? content) => content is not (OutgoingReaction or OutgoingDelete);

    /// <summary>Whether the bridge takes <c>quoted</c> with this send (not with a reaction, an edit or a delete).</summary>
    public static bool TakesQuote(OutgoingContent? content) => content is not (OutgoingReaction or OutgoingEdit or OutgoingDelete);

    public static JsonArray Mentions(IEnumerable<string> jids) => new(jids.Select(j => (JsonNode?)j).ToArray());

    /// <summary>
    /// The <c>quoted</c> field: the key, and the quoted message's content (a <c>proto.Message</c>) when we have it, so
    /// the contact's reply bubble shows what was quoted.
    /// </summary>
    public static JsonObject Quoted(EngineQuote quote, byte[]? content)
    {
        var quoted = Key(quote.Key);
        if (content is { Length: > 0 })
            quoted["content"] = Convert.ToBase64String(content);
        return quoted;
    }

    /// <summary>
    /// A <c>proto.Message</c> holding only <c>conversation</c> (field 1, a length-delimited string): what a quoted text
    /// message is, when its own encoding is not kept (messages others sent us are stored as text).
    /// </summary>
    public static byte[] ConversationProto(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        using var proto = new MemoryStream(bytes.Length + 6);
        proto.WriteByte(0x0A); // field 1, wire type 2
        for (var length = (uint)bytes.Length; ; length >>= 7)
        {
            if (length < 0x80)
            {
                proto.WriteByte((byte)length);
                break;
            }
            proto.WriteByte((byte)(length & 0x7F | 0x80));
        }
        proto.Write(bytes);
        return proto.ToArray();
    }

    /// <summary>A message key as the bridge takes it (Baileys' <c>WAMessageKey</c>).</summary>
    public static JsonObject Key(EngineMessageKey key)
    {
        var json = new JsonObject { ["id"] = key.Id, ["remoteJid"] = key.RemoteJid, ["fromMe"] = key.FromMe };
        if (key.Participant is not null)
            json["participant"] = key.Participant;
        return json;
    }

    /// <summary>A key of a message others sent, for <c>read</c> (its <c>fromMe</c> is always false there).</summary>
    public static JsonObject ReadKey(EngineMessageKey key)
    {
        var json = new JsonObject { ["id"] = key.Id, ["remoteJid"] = key.RemoteJid };
        if (key.Participant is not null)
            json["participant"] = key.Participant;
        return json;
    }
}
