using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Contacts;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>
/// One conversation of an instance, as the Chats page lists it: its last message and how many received ones are unread.
/// <paramref name="Name"/> is the contact's latest push name, or a group's subject as last read from WhatsApp.
/// </summary>
public sealed record ChatSummary(
    string InstanceId, string Chat, string? Name, long LastMessageId, string LastDirection, string LastType, string? LastPreview,
    MessageStatus LastStatus, DateTimeOffset LastAt, int Unread)
{
    public bool IsGroup => WhatsAppNumbers.IsGroupId(Chat);
}

/// <summary>The message a reply quotes, as far as we have it.</summary>
public sealed record ChatQuote(string WaMessageId, string? Direction, string? Type, string? Preview);

/// <summary>One reaction on a message: who (<c>outbound</c> is ours) and which emoji.</summary>
public sealed record ChatReaction(string Direction, string? From, string Emoji);

/// <summary>
/// Who wrote a received group message: their push name, their phone number (digits) when known, their LID (user part,
/// digits) when WhatsApp hid the number or told both.
/// </summary>
public sealed record ChatAuthor(string? Name, string? Number, string? Lid);

/// <summary>One message of a thread with what acts on it folded in: its reactions, its latest edit, whether it was deleted.</summary>
public sealed record ChatMessage(
    long Id, string SerializedId, string WaMessageId, string Direction, string Type, string? Body, string? Caption,
    string? Filename, string? MimeType, string? MediaHash, long? MediaSize, MessageStatus Status, string? Error,
    DateTimeOffset CreatedAt, string? From, string? SenderName, ChatQuote? Quote, IReadOnlyList<ChatReaction> Reactions,
    bool Edited, bool Revoked)
{
    public string? Text => Body ?? Caption;

    /// <summary>The author of a received group message (null for our own and in one-to-one chats).</summary>
    public ChatAuthor? Author { get; init; }
}

/// <summary>A page of a thread, oldest first; <paramref name="HasOlder"/> when there is more before it.</summary>
public sealed record ChatThread(string InstanceId, string Chat, IReadOnlyList<ChatMessage> Messages, bool HasOlder)
{
    public bool IsGroup => WhatsAppNumbers.IsGroupId(Chat);

    /// <summary>A group's subject as last read from WhatsApp; null for other chats and groups not read yet.</summary>
    public string? Subject { get; init; }
}

/// <summary>
/// Read side of the Chats page: an instance's conversations (keyed by <see cref="Message.Chat"/>) and the messages of one,
/// always within the caller's customer (another customer's instance is not found). Rows with a
/// <see cref="Message.TargetId"/> (reactions, edits, deletes) are not messages of their own here but folded into their target.
/// </summary>
public sealed class ChatQueries(IDbContextFactory<WapBridgeDbContext> dbFactory, MessageService messages)
{
    public const int MaxThreadPage = 200;
    private const int PreviewLength = 120;

    public async Task<PagedList<ChatSummary>> ListAsync(int customerId, string? instanceCode, Paging paging, CancellationToken ct = default)
    {
        var instance = await messages.FindInstanceAsync(customerId, instanceCode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = db.Messages.AsNoTracking().Where(m => m.InstanceId == instance.Id && m.CustomerId == customerId && m.Chat != null && m.TargetId == null);
        var chats = rows.GroupBy(m => m.Chat).Select(g => new
        {
            Chat = g.Key!,
            LastId = g.Max(m => m.Id),
            Unread = g.Count(m => m.Direction == Message.Inbound && m.ReadAt == null),
        });
        var total = await chats.CountAsync(ct);
        var page = await chats.OrderByDescending(c => c.LastId).Skip(paging.Offset).Take(paging.Limit).ToListAsync(ct);
        if (page.Count == 0)
            return new PagedList<ChatSummary>([], total, paging.Limit, paging.Offset);

        var lastIds = page.Select(c => c.LastId).ToList();
        var last = await db.Messages.AsNoTracking().Where(m => lastIds.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        var keys = page.Select(c => c.Chat).ToList();
        // The name is the counterpart's latest push name: a contact may change it.
        var nameIds = await rows.Where(m => keys.Contains(m.Chat!) && m.Direction == Message.Inbound && m.SenderName != null)
            .GroupBy(m => m.Chat).Select(g => g.Max(m => m.Id)).ToListAsync(ct);
        var names = await db.Messages.AsNoTracking().Where(m => nameIds.Contains(m.Id)).ToDictionaryAsync(m => m.Chat!, m => m.SenderName, ct);
        // A group's push names are its members': the group is named by its subject.
        var subjects = await SubjectsAsync(db, instance.Id, keys.Where(WhatsAppNumbers.IsGroupId).ToList(), ct);

        var data = page.Select(c =>
        {
            var m = last[c.LastId];
            return new ChatSummary(instance.Code, c.Chat, WhatsAppNumbers.IsGroupId(c.Chat) ? subjects.GetValueOrDefault(c.Chat) : names.GetValueOrDefault(c.Chat),
                m.Id, m.Direction, m.Type, Preview(m), m.Status, m.CreatedAt, c.Unread);
        }).ToList();
        return new PagedList<ChatSummary>(data, total, paging.Limit, paging.Offset);
    }

    /// <summary>The newest <paramref name="limit"/> messages of <paramref name="chat"/> before message <paramref name="before"/> (null: the newest), oldest first.</summary>
    public async Task<ChatThread> ThreadAsync(int customerId, string? instanceCode, string? chat, long? before, int limit, CancellationToken ct = default)
    {
        var instance = await messages.FindInstanceAsync(customerId, instanceCode, ct);
        if (string.IsNullOrWhiteSpace(chat))
            throw WapBridgeException.Missing("chat");
        if (limit is < 1 or > MaxThreadPage)
            throw WapBridgeException.Invalid("limit", "out_of_range", $"limit must be between 1 and {MaxThreadPage}");
        chat = chat.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var inChat = db.Messages.AsNoTracking().Where(m => m.InstanceId == instance.Id && m.CustomerId == customerId && m.Chat == chat);
        var upTo = before ?? long.MaxValue;
        var newest = await inChat.Where(m => m.TargetId == null && m.Id < upTo).OrderByDescending(m => m.Id).Take(limit + 1).ToListAsync(ct);
        var hasOlder = newest.Count > limit;
        var page = newest.Take(limit).Reverse().ToList();
        var isGroup = WhatsAppNumbers.IsGroupId(chat);
        var subject = isGroup ? (await SubjectsAsync(db, instance.Id, [chat], ct)).GetValueOrDefault(chat) : null;
        if (page.Count == 0)
        {
            // Nothing at all under this key: not a conversation of this instance (a group it is in is one, still empty).
            if (before is null && subject is null)
                throw WapBridgeException.NotFound("Chat", chat, "chat");
            return new ChatThread(instance.Code, chat, [], false) { Subject = subject };
        }

        var waIds = page.Select(m => m.WaMessageId).ToList();
        var actions = await inChat.Where(m => m.TargetId != null && waIds.Contains(m.TargetId)).OrderBy(m => m.Id).ToListAsync(ct);
        var quotedIds = page.Select(m => m.QuotedId).OfType<string>().Distinct().ToList();
        var quoted = quotedIds.Count == 0 ? []
            : (await db.Messages.AsNoTracking().Where(m => m.InstanceId == instance.Id && m.TargetId == null && quotedIds.Contains(m.WaMessageId)).ToListAsync(ct))
                .GroupBy(m => m.WaMessageId).ToDictionary(g => g.Key, g => g.First());
        var authors = isGroup ? await AuthorsAsync(db, instance.Id, page) : [];

        var data = page.Select(m =>
        {
            var on = actions.Where(a => a.TargetId == m.WaMessageId && a.Status != MessageStatus.Failed).ToList();
            // Each sender's latest reaction counts; an empty emoji took theirs back.
            var reactions = on.Where(a => a.Type == ConversationService.ReactionType)
                .GroupBy(a => (a.Direction, a.FromNumber)).Select(g => g.Last())
                .Where(a => !string.IsNullOrEmpty(a.Body)).Select(a => new ChatReaction(a.Direction, a.FromNumber, a.Body!)).ToList();
            var edit = on.LastOrDefault(a => a.Type == ConversationService.EditType);
            var revoked = m.Type == ConversationService.RevokedType || on.Any(a => a.Type is ConversationService.RevokeType or ConversationService.RevokedType);
            var quote = m.QuotedId is { } q
                ? quoted.TryGetValue(q, out var original) ? new ChatQuote(q, original.Direction, original.Type, Preview(original)) : new ChatQuote(q, null, null, null)
                : null;
            return new ChatMessage(m.Id, m.SerializedId, m.WaMessageId, m.Direction, m.Type, revoked ? null : edit?.Body ?? m.Body, revoked ? null : m.Caption,
                m.Filename, m.MimeType, revoked ? null : m.MediaHash, m.MediaSize, m.Status, m.Error, m.CreatedAt, m.FromNumber, m.SenderName, quote, reactions,
                edit is not null, revoked)
            {
                Author = authors.GetValueOrDefault(m.Id),
            };
        }).ToList();
        return new ChatThread(instance.Code, chat, data, hasOlder) { Subject = subject };
    }

    private static async Task<Dictionary<string, string>> SubjectsAsync(WapBridgeDbContext db, int instanceId, IReadOnlyList<string> groups, CancellationToken ct) =>
        groups.Count == 0 ? []
            : await db.CachedGroups.AsNoTracking().Where(g => g.InstanceId == instanceId && groups.Contains(g.GroupJid))
                .ToDictionaryAsync(g => g.GroupJid, g => g.Subject, ct);

    /// <summary>
    /// The authors of the received messages of <paramref name="page"/>. A sender WhatsApp hid the number of is recorded by
    /// LID (<c>&lt;digits&gt;@lid</c>); the instance may have learned its number since, or the LID of a number.
    /// </summary>
    private static async Task<Dictionary<long, ChatAuthor>> AuthorsAsync(WapBridgeDbContext db, int instanceId, IReadOnlyList<Message> page)
    {
        var inbound = page.Where(m => m.Direction == Message.Inbound).ToList();
        var senders = inbound.Select(m => m.FromNumber).OfType<string>().Distinct().ToList();
        var lids = senders.Select(WhatsAppIds.LidUserOf).OfType<string>().ToList();
        var phones = senders.Where(s => WhatsAppIds.LidUserOf(s) is null).ToList();
        var (phoneByLid, lidByPhone) = await LidMappings.LoadAsync(db, [instanceId], lids, phones);
        return inbound.ToDictionary(m => m.Id, m => m.FromNumber switch
        {
            null => new ChatAuthor(m.SenderName, null, null),
            var from when WhatsAppIds.LidUserOf(from) is { } lid => new ChatAuthor(m.SenderName, phoneByLid.GetValueOrDefault((instanceId, lid)), lid),
            var from => new ChatAuthor(m.SenderName, from, lidByPhone.GetValueOrDefault((instanceId, from))),
        });
    }



    /// <summary>A line of text for a message in a list or a quote: its text, else its file name, else its kind.</summary>
    public static string? Preview(Message m)
    {
        if (m.Type == ConversationService.RevokedType)
            return "This message was deleted";
        var text = m.Body ?? m.Caption ?? m.Filename;
        if (string.IsNullOrWhiteSpace(text))
            return null;
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length <= PreviewLength ? text : text[..(PreviewLength - 1)] + "…";
    }
}
