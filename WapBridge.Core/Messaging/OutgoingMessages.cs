using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>
/// What the outbox hands an engine for a stored row: the text or media, and what the row says besides (the quoted
/// message, mentions, a location, contacts, a poll, or the message a reaction, edit or delete acts on).
/// </summary>
internal static class OutgoingMessages
{
    public static async Task<OutgoingMessage> ForAsync(IDbContextFactory<WapBridgeDbContext> dbFactory, Message message, EngineMedia? file, string? checkedJid,
        CancellationToken ct)
    {
        // Most sends are plain text or media: only a reply or a protocol message reads other rows.
        await using var db = message.QuotedId is null && message.TargetId is null ? null : await dbFactory.CreateDbContextAsync(ct);
        var chat = message.ToNumber!;
        var outgoing = new OutgoingMessage(message.WaMessageId, chat, file is null ? message.Body : null, file, message.Caption)
        {
            // A group or a LID chat is addressed as it is; a number where WhatsApp said it lives.
            ToJid = chat.Contains('@') ? chat : checkedJid,
            Mentions = message.Mentions?.Split(',').Select(WhatsAppIds.ChatJid).ToList(),
            Content = await ContentAsync(db, message, ct),
        };
        if (message.QuotedId is { } quotedId && await FindAsync(db!, message.InstanceId, quotedId, ct) is { } quoted)
            outgoing = outgoing with { Quoted = new EngineQuote(MessageKeys.Of(quoted), quoted.Body) };
        return outgoing;
    }

    /// <summary>True for a chat that is not a phone number (a group or a LID): no number check applies.</summary>
    public static bool IsAddressedAsIs(string chat) => chat.Contains('@');

    /// <summary>
    /// A message that may open a conversation with a stranger, so the new-contact budget applies: one to a phone number
    /// (not a group, a LID chat or a status broadcast), and not a reaction, edit or delete, which act on a message
    /// of a conversation that exists.
    /// </summary>
    public static bool IsFirstMessageCandidate(Message message) =>
        message.ToNumber is { } to && !IsAddressedAsIs(to) && message.TargetId is null;

    private static async Task<OutgoingContent?> ContentAsync(WapBridgeDbContext? db, Message message, CancellationToken ct)
    {
        switch (message.Type)
        {
            case "location":
                var place = MessageContent.Read<LocationContent>(message.Content)!;
                return new OutgoingLocation(place.Latitude, place.Longitude, place.Name, place.Address);
            case "vcard" or "multi_vcard":
                return new OutgoingContacts(MessageContent.Read<ContactsContent>(message.Content)!.Contacts.Select(c => new OutgoingContact(c.Name, c.Number)).ToList());
            case "poll_creation":
                var poll = MessageContent.Read<PollContent>(message.Content)!;
                // WhatsApp's encoding: 1 allows one answer, 0 any number.
                return new OutgoingPoll(poll.Question, poll.Options, poll.MultipleAnswers ? 0 : 1);
            case TemplateService.MessageType:
                var template = MessageContent.Read<TemplateContent>(message.Content)!;
                return new OutgoingTemplate(template.Name, template.Language, template.Components?.ToJsonString());
            case ConversationService.ReactionType:
                return new OutgoingReaction(await TargetKeyAsync(db, message, targetIsOurs: false, ct), message.Body ?? "");
            case ConversationService.EditType:
                return new OutgoingEdit(await TargetKeyAsync(db, message, targetIsOurs: true, ct), message.Body ?? "");
            case ConversationService.RevokeType:
                return new OutgoingDelete(await TargetKeyAsync(db, message, targetIsOurs: true, ct));
            default:
                return null;
        }
    }

    /// <summary>The key of the message acted on; when its row is gone (deleted for us meanwhile), rebuilt from the chat.</summary>
    private static async Task<EngineMessageKey> TargetKeyAsync(WapBridgeDbContext? db, Message message, bool targetIsOurs, CancellationToken ct) =>
        await FindAsync(db!, message.InstanceId, message.TargetId!, ct) is { } target
            ? MessageKeys.Of(target)
            : new EngineMessageKey(message.TargetId!, WhatsAppIds.ChatJid(message.ToNumber!), targetIsOurs);

    private static Task<Message?> FindAsync(WapBridgeDbContext db, int instanceId, string waId, CancellationToken ct) =>
        db.Messages.AsNoTracking().Where(m => m.InstanceId == instanceId && m.WaMessageId == waId).OrderByDescending(m => m.Id).FirstOrDefaultAsync(ct);

    /// <summary>
    /// What sent protocol messages did, on our side too: an edit gives our original its new text, a delete for everyone
    /// leaves it revoked (as WhatsApp shows it).
    /// </summary>
    public static async Task ApplySentAsync(WapBridgeDbContext db, IEnumerable<Message> sent, CancellationToken ct)
    {
        foreach (var message in sent.Where(m => m.TargetId is not null))
        {
            var target = db.Messages.Where(m => m.InstanceId == message.InstanceId && m.WaMessageId == message.TargetId && m.Direction == Message.Outbound);
            if (message.Type == ConversationService.EditType)
                await target.ExecuteUpdateAsync(s => s.SetProperty(m => m.Body, message.Body), ct);
            else if (message.Type == ConversationService.RevokeType)
                await target.ExecuteUpdateAsync(s => s.SetProperty(m => m.Type, ConversationService.RevokedType).SetProperty(m => m.Body, (string?)null)
                    .SetProperty(m => m.Caption, (string?)null), ct);
        }
    }
}
