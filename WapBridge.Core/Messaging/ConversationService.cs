using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>Who sends and to whom, as a conversation send names it (contract §9: <c>instance_id</c> or <c>from_number</c> picks the instance).</summary>
public sealed record ConversationAddress(int CustomerId, string? InstanceCode, string? FromNumber, string? ToNumber, TimeSpan Wait);

/// <summary>
/// The conversation sends of contract §9 beyond text and media. What creates a WhatsApp message (a location, contacts, a
/// poll, and a reaction, edit or delete for everyone as protocol messages) is persisted first and sent by the outbox like
/// every message; what does not (read marks, presence, delete for me) goes straight to the instance's session.
/// </summary>
public sealed class ConversationService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    MessageService messages,
    IGrainFactory grains,
    IOptions<MessagingOptions> options,
    TimeProvider time)
{
    /// <summary>WhatsApp lets a sender edit a message for 15 minutes.</summary>
    public static readonly TimeSpan EditWindow = TimeSpan.FromMinutes(15);

    /// <summary>WhatsApp lets a sender delete a message for everyone for about two days.</summary>
    public static readonly TimeSpan DeleteForEveryoneWindow = TimeSpan.FromDays(2);

    public const int MaxContacts = 10;
    public const int MinPollOptions = 2;
    public const int MaxPollOptions = 12;
    public const int MaxPollText = 255;
    public const int MaxPlaceText = 256;
    public const int MaxReadKeys = 1000;

    /// <summary>Types of the rows that stand for protocol messages acting on <see cref="Message.TargetId"/>.</summary>
    public const string EditType = "edit";
    public const string RevokeType = "revoke";
    public const string RevokedType = "revoked";
    public const string ReactionType = "reaction";

    public async Task<SendOutcome> SendLocationAsync(ConversationAddress address, double? latitude, double? longitude, string? name, string? addressText,
        CancellationToken ct = default)
    {
        var (instance, to) = await AddressAsync(address, EngineFeatures.Locations, "latitude", ct);
        if (latitude is not { } lat)
            throw WapBridgeException.Missing("latitude");
        if (longitude is not { } lon)
            throw WapBridgeException.Missing("longitude");
        if (!double.IsFinite(lat) || lat is < -90 or > 90)
            throw WapBridgeException.Invalid("latitude", "out_of_range", "latitude must be between -90 and 90");
        if (!double.IsFinite(lon) || lon is < -180 or > 180)
            throw WapBridgeException.Invalid("longitude", "out_of_range", "longitude must be between -180 and 180");
        name = Optional(name, "name", MaxPlaceText);
        addressText = Optional(addressText, "address", MaxPlaceText);
        var message = NewRow(instance, to, "location", name);
        message.Content = MessageContent.Write(new LocationContent(lat, lon, name, addressText));
        return await messages.SubmitAsync(instance, message, address.Wait, ct);
    }

    public async Task<SendOutcome> SendContactsAsync(ConversationAddress address, IReadOnlyList<(string? Name, string? Number)?>? contacts, CancellationToken ct = default)
    {
        var (instance, to) = await AddressAsync(address, EngineFeatures.Contacts, "contacts", ct);
        if (contacts is null || contacts.Count == 0)
            throw WapBridgeException.Missing("contacts");
        if (contacts.Count > MaxContacts)
            throw WapBridgeException.Invalid("contacts", "too_many", $"contacts lists {contacts.Count} contacts; share at most {MaxContacts} at once");
        var cards = contacts.Select((c, i) =>
        {
            if (c is not { } contact)
                throw WapBridgeException.Missing($"contacts[{i}]");
            var name = Optional(contact.Name, $"contacts[{i}].name", MaxPlaceText) ?? throw WapBridgeException.Missing($"contacts[{i}].name");
            return new ContactCard(name, WhatsAppNumbers.Normalize(contact.Number, $"contacts[{i}].number", instance.DefaultCountry));
        }).ToList();
        var message = NewRow(instance, to, cards.Count == 1 ? "vcard" : "multi_vcard", string.Join(", ", cards.Select(c => c.Name)));
        message.Content = MessageContent.Write(new ContactsContent(cards));
        return await messages.SubmitAsync(instance, message, address.Wait, ct);
    }

    public async Task<SendOutcome> SendPollAsync(ConversationAddress address, string? question, IReadOnlyList<string?>? pollOptions, bool multipleAnswers,
        CancellationToken ct = default)
    {
        var (instance, to) = await AddressAsync(address, EngineFeatures.Polls, "question", ct);
        question = Optional(question, "question", MaxPollText) ?? throw WapBridgeException.Missing("question");
        if (pollOptions is null || pollOptions.Count == 0)
            throw WapBridgeException.Missing("options");
        if (pollOptions.Count is < MinPollOptions or > MaxPollOptions)
            throw WapBridgeException.Invalid("options", "out_of_range", $"options lists {pollOptions.Count} answers; a poll has {MinPollOptions} to {MaxPollOptions}");
        var answers = pollOptions.Select((o, i) => Optional(o, $"options[{i}]", MaxPollText)
            ?? throw WapBridgeException.Invalid($"options[{i}]", "empty_option", $"options[{i}] is empty; every answer needs text")).ToList();
        if (answers.Distinct(StringComparer.Ordinal).Count() != answers.Count)
            throw WapBridgeException.Invalid("options", "duplicate_option", "options lists the same answer twice; every answer must be different");
        var message = NewRow(instance, to, "poll_creation", question);
        message.Content = MessageContent.Write(new PollContent(question, answers, multipleAnswers));
        return await messages.SubmitAsync(instance, message, address.Wait, ct);
    }

    /// <summary>A reaction to any message of the customer's, from the instance that has it; an empty emoji removes ours.</summary>
    public async Task<SendOutcome> SendReactionAsync(int customerId, string? id, string? emoji, TimeSpan wait, CancellationToken ct = default)
    {
        var target = await FindAsync(customerId, id, "id", ct);
        var instance = await SendingInstanceAsync(target, EngineFeatures.Reactions, "emoji", ct);
        if (emoji is null)
            throw WapBridgeException.Missing("emoji");
        emoji = emoji.Trim();
        if (emoji.Length > 0 && !IsOneEmoji(emoji))
            throw WapBridgeException.Invalid("emoji", "invalid_emoji", "emoji must be one emoji, such as 👍, or \"\" to remove your reaction");
        var message = NewRow(instance, ChatOf(target), ReactionType, emoji);
        message.TargetId = target.WaMessageId;
        return await messages.SubmitAsync(instance, message, wait, ct);
    }

    /// <summary>New text for one of our own text messages, within WhatsApp's 15 minutes.</summary>
    public async Task<SendOutcome> EditAsync(int customerId, string? id, string? text, TimeSpan wait, CancellationToken ct = default)
    {
        var target = await FindAsync(customerId, id, "id", ct);
        var instance = await SendingInstanceAsync(target, EngineFeatures.Edits, "message", ct);
        if (target.Direction != Message.Outbound)
            throw Conflict("not_own_message", $"Message {id} was sent to you; only your own messages can be edited.");
        if (target.Type != "chat")
            throw Conflict("not_a_text_message", $"Message {id} is a {target.Type} message; only text messages can be edited.");
        if (target.Status == MessageStatus.Failed)
            throw Conflict("message_failed", $"Message {id} was never sent (it failed); send a new message instead.");
        if (time.GetUtcNow() - (target.SentAt ?? target.CreatedAt) > EditWindow)
            throw Conflict("edit_window_passed", $"Message {id} was sent more than {EditWindow.TotalMinutes:0} minutes ago; WhatsApp allows edits only within {EditWindow.TotalMinutes:0} minutes.");
        if (string.IsNullOrWhiteSpace(text))
            throw string.IsNullOrEmpty(text) ? WapBridgeException.Missing("message") : WapBridgeException.Invalid("message", "empty_message", "message is empty; write the new text");
        if (text.Length > MessageService.MaxTextLength)
            throw WapBridgeException.Invalid("message", "too_long", $"message is longer than {MessageService.MaxTextLength} characters");
        var message = NewRow(instance, ChatOf(target), EditType, text);
        message.TargetId = target.WaMessageId;
        return await messages.SubmitAsync(instance, message, wait, ct);
    }

    /// <summary>
    /// Deletes a message for everyone (our own, within about two days: a protocol message through the outbox), or for
    /// this device only, which creates no message: then null.
    /// </summary>
    public async Task<SendOutcome?> DeleteAsync(int customerId, string? id, bool forEveryone, TimeSpan wait, CancellationToken ct = default)
    {
        var target = await FindAsync(customerId, id, "id", ct);
        if (!forEveryone)
        {
            var owner = await messages.InstanceOfAsync(target, ct);
            messages.EnsureFeature(owner, EngineFeatures.DeleteForMe, "for_everyone");
            EnsureConnected(owner);
            await grains.GetGrain<IInstanceGrain>(owner.Code).DeleteForMeAsync(MessageKeys.Of(target), target.SentAt ?? target.CreatedAt);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.Messages.Where(m => m.Id == target.Id).ExecuteDeleteAsync(CancellationToken.None);
            return null;
        }
        var instance = await SendingInstanceAsync(target, EngineFeatures.DeleteForEveryone, "for_everyone", ct);
        if (target.Direction != Message.Outbound)
            throw Conflict("not_own_message", $"Message {id} was sent to you; only your own messages can be deleted for everyone (pass for_everyone=false to delete it for you).");
        if (time.GetUtcNow() - (target.SentAt ?? target.CreatedAt) > DeleteForEveryoneWindow)
            throw Conflict("delete_window_passed", $"Message {id} was sent more than {DeleteForEveryoneWindow.TotalDays:0} days ago; WhatsApp no longer deletes it for everyone (pass for_everyone=false to delete it for you).");
        var message = NewRow(instance, ChatOf(target), RevokeType, null);
        message.TargetId = target.WaMessageId;
        return await messages.SubmitAsync(instance, message, wait, ct);
    }

    /// <summary>
    /// Marks received messages read, on WhatsApp and on our rows (the Chats page counts unread ones): everything in the
    /// chat of message <paramref name="id"/> up to it, or everything in <paramref name="chat"/> up to now. The number marked.
    /// </summary>
    public async Task<int> MarkReadAsync(int customerId, string? id, string? instanceCode, string? chat, CancellationToken ct = default)
    {
        Instance instance;
        long upTo;
        if (!string.IsNullOrWhiteSpace(id))
        {
            var target = await FindAsync(customerId, id, "id", ct);
            instance = await messages.InstanceOfAsync(target, ct);
            chat = ChatOf(target);
            upTo = target.Id;
        }
        else
        {
            if (string.IsNullOrWhiteSpace(instanceCode))
                throw WapBridgeException.Invalid("id", "missing_argument", "id is required (or instance_id and chat, to mark a whole chat read)");
            instance = await messages.FindInstanceAsync(customerId, instanceCode, ct);
            chat = NormalizeChat(chat, "chat", instance.DefaultCountry);
            upTo = long.MaxValue;
        }
        messages.EnsureFeature(instance, EngineFeatures.ReadReceipts, id is null ? "chat" : "id");
        EnsureConnected(instance);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var unread = db.Messages.Where(m => m.InstanceId == instance.Id && m.Chat == chat && m.Direction == Message.Inbound && m.ReadAt == null && m.Id <= upTo);
        var rows = await unread.AsNoTracking().OrderByDescending(m => m.Id).Take(MaxReadKeys).ToListAsync(ct);
        if (rows.Count == 0)
            return 0;
        await grains.GetGrain<IInstanceGrain>(instance.Code).MarkReadAsync(rows.Select(MessageKeys.Of).ToList());
        var last = rows[0].Id;
        var now = time.GetUtcNow();
        return await unread.Where(m => m.Id <= last).ExecuteUpdateAsync(s => s.SetProperty(m => m.ReadAt, now), CancellationToken.None);
    }

    public async Task SendPresenceAsync(int customerId, string? instanceCode, string? fromNumber, string? toNumber, string? state, CancellationToken ct = default)
    {
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);
        messages.EnsureFeature(instance, EngineFeatures.Presence, "state");
        EnsureConnected(instance);
        var presence = string.IsNullOrWhiteSpace(state) ? throw WapBridgeException.Missing("state") : state.Trim().ToLowerInvariant();
        if (!EnginePresence.All.Contains(presence))
            throw WapBridgeException.Invalid("state", "invalid_state", $"state must be one of {string.Join(", ", EnginePresence.All)}");
        var to = WhatsAppNumbers.NormalizeChat(toNumber, "to_number", instance.DefaultCountry);
        await grains.GetGrain<IInstanceGrain>(instance.Code).SendPresenceAsync(WhatsAppIds.ChatJid(to), presence);
    }

    /// <summary>The conversation a stored message is in (rows from before chats were stored: its counterpart).</summary>
    public static string ChatOf(Message m) => m.Chat ?? (m.Direction == Message.Inbound ? m.FromNumber : m.ToNumber) ?? "";

    /// <summary>
    /// One emoji: a single grapheme (a skin tone, a ZWJ family or a flag included) that is a symbol, not a letter or digit
    /// (a keycap such as 1️⃣ is one).
    /// </summary>
    public static bool IsOneEmoji(string text)
    {
        if (StringInfo.GetNextTextElementLength(text) != text.Length)
            return false;
        return text.EnumerateRunes().Any(r => Rune.GetUnicodeCategory(r) == UnicodeCategory.OtherSymbol || r.Value == 0x20E3);
    }

    private async Task<(Instance Instance, string To)> AddressAsync(ConversationAddress address, string feature, string field, CancellationToken ct)
    {
        var instance = await messages.ResolveInstanceAsync(address.CustomerId, address.InstanceCode, address.FromNumber, ct);
        MessageService.EnsureSendable(instance);
        messages.EnsureFeature(instance, feature, field);
        return (instance, WhatsAppNumbers.NormalizeChat(address.ToNumber, "to_number", instance.DefaultCountry));
    }

    private async Task<Instance> SendingInstanceAsync(Message target, string feature, string field, CancellationToken ct)
    {
        var instance = await messages.InstanceOfAsync(target, ct);
        MessageService.EnsureSendable(instance);
        messages.EnsureFeature(instance, feature, field);
        return instance;
    }

    /// <summary>One of the customer's messages by the id the API shows (serialized or WhatsApp id); 404 naming <paramref name="field"/>.</summary>
    private async Task<Message> FindAsync(int customerId, string? id, string field, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(id))
            throw WapBridgeException.Missing(field);
        id = id.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.AsNoTracking()
                .Where(m => m.CustomerId == customerId && (m.SerializedId == id || m.WaMessageId == id))
                .OrderByDescending(m => m.Id).FirstOrDefaultAsync(ct)
            ?? throw WapBridgeException.NotFound("Message", id, field);
    }

    private Message NewRow(Instance instance, string to, string type, string? body)
    {
        var message = OutboundMessages.New(instance, to, body, null, null, MessageSources.Api, null, time.GetUtcNow(), options.Value.QueuedTimeToLive);
        message.Type = type;
        return message;
    }

    private static void EnsureConnected(Instance instance)
    {
        if (instance.State != InstanceState.Connected)
            throw EngineErrors.NotConnected(instance.Code, instance.State.ToWire(), "first");
    }

    /// <summary>A chat as <c>mark_read</c> names it: a group id, a LID, or a number.</summary>
    private static string NormalizeChat(string? chat, string field, string? defaultCountry)
    {
        var text = chat?.Trim();
        return text is not null && text.EndsWith("@lid", StringComparison.Ordinal) && text.Length <= 64
            ? text
            : WhatsAppNumbers.NormalizeChat(chat, field, defaultCountry);
    }

    private static string? Optional(string? text, string field, int max)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        text = text.Trim();
        return text.Length <= max ? text : throw WapBridgeException.Invalid(field, "too_long", $"{field} is longer than {max} characters");
    }

    private static WapBridgeException Conflict(string code, string message) => new(ErrorKind.Conflict, code, message, "id");
}

/// <summary>How engines address our stored messages.</summary>
public static class MessageKeys
{
    public static EngineMessageKey Of(Message m)
    {
        var chat = ConversationService.ChatOf(m);
        var participant = WhatsAppNumbers.IsGroupId(chat) && m.Direction == Message.Inbound && m.FromNumber is { } from ? WhatsAppIds.ChatJid(from) : null;
        // Engines that number messages themselves (Cloud API) know ours by their id.
        return new EngineMessageKey(m.EngineMessageId ?? m.WaMessageId, WhatsAppIds.ChatJid(chat), m.Direction == Message.Outbound, participant);
    }
}
