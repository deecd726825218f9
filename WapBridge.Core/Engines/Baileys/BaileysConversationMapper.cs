using System.Text.Json;
using static WapBridge.Core.Engines.Baileys.BaileysMessageMapper;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// The conversation side of what the bridge reports (PROTOCOL.md "Conversations"): a message's reply and mentions
/// (its content's <c>contextInfo</c>), and the <c>call</c> and <c>presence</c> events. Pure, like <see cref="BaileysMessageMapper"/>.
/// </summary>
public static class BaileysConversationMapper
{
    /// <summary>The text (or caption) of the message a reply quotes, from <c>&lt;content&gt;.contextInfo.quotedMessage</c>.</summary>
    public static string? QuotedBody(JsonElement message) =>
        ContextInfo(message) is { } context && Obj(context, "quotedMessage") is { } quoted
            ? NullIfEmpty(MapContent(Unwrap(quoted), "")?.Body)
            : null;

    /// <summary>The mentioned users of <c>&lt;content&gt;.contextInfo.mentionedJid</c>: phone digits, or a bare LID.</summary>
    public static IReadOnlyList<string>? Mentions(JsonElement message)
    {
        if (ContextInfo(message) is not { } context || !context.TryGetProperty("mentionedJid", out var list) || list.ValueKind != JsonValueKind.Array)
            return null;
        var mentions = list.EnumerateArray().Where(j => j.ValueKind == JsonValueKind.String).Select(j => j.GetString()!)
            .Select(jid => PhoneOf(jid) ?? (IsLid(jid) ? BareLid(jid) : null)).OfType<string>().Distinct().ToList();
        return mentions.Count == 0 ? null : mentions;
    }

    /// <summary>
    /// The <c>contextInfo</c> of a message's content field (<c>extendedTextMessage</c>, <c>imageMessage</c>,
    /// <c>locationMessage</c>, …); a plain <c>conversation</c> has none.
    /// </summary>
    private static JsonElement? ContextInfo(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
            return null;
        foreach (var field in message.EnumerateObject())
            if (!NonContent.Contains(field.Name) && Obj(field.Value, "contextInfo") is { } context)
                return context;
        return null;
    }

    /// <summary>A <c>call</c> event, or null when it names no call or no caller.</summary>
    /// <param name="phoneForLid">Known phone numbers (digits) of LIDs, from the session's <c>lid_mapping</c> events.</param>
    public static CallEvent? MapCall(string instanceId, DateTimeOffset now, JsonElement data, Func<string, string?>? phoneForLid = null)
    {
        var callId = Str(data, "id");
        var from = Str(data, "from");
        var status = Str(data, "status");
        if (string.IsNullOrEmpty(callId) || string.IsNullOrEmpty(from) || string.IsNullOrEmpty(status))
            return null;
        var (phone, lid) = ResolveSender(from, [Str(data, "fromAlt")], phoneForLid);
        if (phone is null && lid is null)
            return null;
        var at = Num(data, "timestamp") is > 0 and var seconds ? DateTimeOffset.FromUnixTimeSeconds((long)seconds) : now;
        return new CallEvent(instanceId, at, callId, phone, lid, Bool(data, "isVideo"), Bool(data, "isGroup"), status);
    }

    /// <summary>A <c>presence</c> event, or null when it names no chat or state.</summary>
    public static PresenceEvent? MapPresence(string instanceId, DateTimeOffset now, JsonElement data, Func<string, string?>? phoneForLid = null)
    {
        var chatJid = Str(data, "chat");
        var state = Str(data, "state");
        if (string.IsNullOrEmpty(chatJid) || string.IsNullOrEmpty(state))
            return null;
        var (phone, lid) = ResolveSender(Str(data, "from") ?? chatJid, [], phoneForLid);
        string? chat;
        if (chatJid.EndsWith("@g.us", StringComparison.Ordinal))
            chat = chatJid;
        else
        {
            var (chatPhone, chatLid) = ResolveSender(chatJid, [], phoneForLid);
            chat = chatPhone ?? chatLid;
        }
        if (chat is null || phone is null && lid is null)
            return null;
        DateTimeOffset? lastSeen = Num(data, "lastSeen") is > 0 and var seconds ? DateTimeOffset.FromUnixTimeSeconds((long)seconds) : null;
        return new PresenceEvent(instanceId, now, chat, phone, lid, state, lastSeen);
    }
}
