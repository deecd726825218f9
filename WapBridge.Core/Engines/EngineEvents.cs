namespace WapBridge.Core.Engines;

public abstract record EngineEvent(string InstanceId, DateTimeOffset At);

/// <summary>A new QR code to show; the previous one stops working.</summary>
public sealed record QrCodeEvent(string InstanceId, DateTimeOffset At, string Qr, DateTimeOffset ExpiresAt) : EngineEvent(InstanceId, At);

public sealed record PairingCodeEvent(string InstanceId, DateTimeOffset At, string Code) : EngineEvent(InstanceId, At);

/// <summary>Pairing gave up (QR not scanned in time): the instance needs a restart to try again.</summary>
public sealed record PairingExpiredEvent(string InstanceId, DateTimeOffset At, string Reason) : EngineEvent(InstanceId, At);

public sealed record ConnectedEvent(string InstanceId, DateTimeOffset At, string PhoneNumber, string? PushName) : EngineEvent(InstanceId, At);

/// <summary>The connection dropped; <see cref="Transient"/> sessions are reconnected by the host.</summary>
public sealed record DisconnectedEvent(string InstanceId, DateTimeOffset At, string Reason, bool Transient) : EngineEvent(InstanceId, At)
{
    /// <summary>A temporary ban (402): the host reconnects once, at this time, and not before.</summary>
    public DateTimeOffset? BannedUntil { get; init; }

    /// <summary>The engine's raw words when <see cref="Reason"/> says it plainly: kept in logs and the state history, not shown as the reason.</summary>
    public string? Detail { get; init; }
}

/// <summary>
/// WhatsApp restricts the account (463, reach-out timelock): it stays connected, but sends to contacts it never
/// talked with are held until <see cref="Until"/>.
/// </summary>
public sealed record AccountRestrictedEvent(string InstanceId, DateTimeOffset At, DateTimeOffset Until, string Detail) : EngineEvent(InstanceId, At);

/// <summary>The phone unlinked this device: the credentials are void and a new scan is needed.</summary>
public sealed record LoggedOutEvent(string InstanceId, DateTimeOffset At, string Reason) : EngineEvent(InstanceId, At);

public sealed record MessageReceivedEvent(string InstanceId, DateTimeOffset At, InboundEngineMessage Message) : EngineEvent(InstanceId, At);

/// <summary>A message arrived that the engine could not decrypt; the host counts them on the instance.</summary>
public sealed record UndecryptableMessageEvent(string InstanceId, DateTimeOffset At, string? MessageId, string? Error) : EngineEvent(InstanceId, At);

/// <summary>WhatsApp told the engine which phone number (digits) a LID (its user part) belongs to.</summary>
public sealed record LidMappingEvent(string InstanceId, DateTimeOffset At, string Lid, string PhoneNumber) : EngineEvent(InstanceId, At);

/// <summary>A contact as WhatsApp names it: phone digits, LID user part (digits of <c>…@lid</c>) or both.</summary>
public sealed record EngineContactRef(string? Phone, string? Lid);

/// <summary>
/// WhatsApp synced contacts to the linked device (the phone's address book, its direct chats, a history sync): the
/// instance already has a conversation with each, so a message to them is no first message to a stranger. A large
/// sync comes as several events.
/// </summary>
public sealed record ContactsSyncedEvent(string InstanceId, DateTimeOffset At, IReadOnlyList<EngineContactRef> Contacts) : EngineEvent(InstanceId, At);

/// <summary>
/// What a contact did to a message (a reaction, an edit, a revoke, a poll vote), as its own event besides the
/// <see cref="MessageReceivedEvent"/> that records it: what the opt-in webhooks <c>message.reaction</c>,
/// <c>message.edited</c>, <c>message.revoked</c> and <c>poll.vote</c> are made of.
/// </summary>
public abstract record MessageUpdateEvent(string InstanceId, DateTimeOffset At, string MessageId, string? FromPhone, string? FromLid)
    : EngineEvent(InstanceId, At)
{
    /// <summary>The update an inbound message stands for, or null for an ordinary message.</summary>
    public static MessageUpdateEvent? For(string instanceId, DateTimeOffset at, InboundEngineMessage m) => m switch
    {
        { Edit: { } edit } => new MessageEditedEvent(instanceId, at, edit.TargetId, m.FromPhone, m.FromLid, edit.Body),
        { PollVote: { } vote } => new PollVoteEvent(instanceId, at, vote.PollId, m.FromPhone, m.FromLid, vote),
        { Reaction: { } reaction } => new MessageReactionEvent(instanceId, at, reaction.TargetId, m.FromPhone, m.FromLid, reaction.Emoji),
        { RevokedId: { } revoked } => new MessageRevokedEvent(instanceId, at, revoked, m.FromPhone, m.FromLid),
        _ => null,
    };
}

/// <summary>A reaction to <see cref="MessageUpdateEvent.MessageId"/>; an empty <see cref="Emoji"/> removes it.</summary>
public sealed record MessageReactionEvent(string InstanceId, DateTimeOffset At, string MessageId, string? FromPhone, string? FromLid, string Emoji)
    : MessageUpdateEvent(InstanceId, At, MessageId, FromPhone, FromLid);

public sealed record MessageEditedEvent(string InstanceId, DateTimeOffset At, string MessageId, string? FromPhone, string? FromLid, string Body)
    : MessageUpdateEvent(InstanceId, At, MessageId, FromPhone, FromLid);

/// <summary>The sender deleted <see cref="MessageUpdateEvent.MessageId"/> for everyone.</summary>
public sealed record MessageRevokedEvent(string InstanceId, DateTimeOffset At, string MessageId, string? FromPhone, string? FromLid)
    : MessageUpdateEvent(InstanceId, At, MessageId, FromPhone, FromLid);

/// <summary>A vote on the poll <see cref="MessageUpdateEvent.MessageId"/>.</summary>
public sealed record PollVoteEvent(string InstanceId, DateTimeOffset At, string MessageId, string? FromPhone, string? FromLid, EnginePollVote Vote)
    : MessageUpdateEvent(InstanceId, At, MessageId, FromPhone, FromLid);

/// <summary>
/// A call to the account (<see cref="Status"/>: <c>offer</c>, <c>ringing</c>, <c>timeout</c> (missed), <c>reject</c>,
/// <c>accept</c>, <c>terminate</c>); every event of one call has the same <see cref="CallId"/>. <see cref="EngineEvent.At"/>
/// is when WhatsApp says it happened.
/// </summary>
public sealed record CallEvent(string InstanceId, DateTimeOffset At, string CallId, string? FromPhone, string? FromLid, bool IsVideo, bool IsGroup, string Status)
    : EngineEvent(InstanceId, At);

/// <summary>
/// A contact's presence (<see cref="EnginePresence"/> states) in <see cref="Chat"/> (the contact's digits, a LID or a
/// group id, as <c>Message.Chat</c>); <see cref="LastSeen"/> when WhatsApp told it.
/// </summary>
public sealed record PresenceEvent(string InstanceId, DateTimeOffset At, string Chat, string? FromPhone, string? FromLid, string State, DateTimeOffset? LastSeen)
    : EngineEvent(InstanceId, At);

/// <summary>
/// Members of <see cref="GroupJid"/> were added, removed, promoted or demoted (<see cref="Action"/>: a
/// <see cref="GroupParticipantActions"/> value, or <c>leave</c> when they left on their own); <c>By…</c> is who did it, when
/// WhatsApp says. The account itself joining or leaving comes as this event too, with its own number among the participants.
/// </summary>
public sealed record GroupParticipantsEvent(string InstanceId, DateTimeOffset At, string GroupJid, string Action,
    IReadOnlyList<EngineGroupParticipant> Participants, string? ByPhone, string? ByLid) : EngineEvent(InstanceId, At);

/// <summary>A group's subject, description or settings changed (<see cref="Change"/> holds what changed).</summary>
public sealed record GroupUpdateEvent(string InstanceId, DateTimeOffset At, string GroupJid, EngineGroupChange Change, string? ByPhone, string? ByLid)
    : EngineEvent(InstanceId, At);

public sealed record MessageStatusEvent(string InstanceId, DateTimeOffset At, string MessageId, MessageAck Ack, string? Error = null) : EngineEvent(InstanceId, At)
{
    /// <summary>With <see cref="MessageAck.Error"/>: the reason the message fails with (e.g. <c>template_required</c>); <c>whatsapp_error</c> when null.</summary>
    public string? ErrorCode { get; init; }
}

/// <summary>whatsapp-web.js ack levels, which the contract exposes as <c>ack</c>.</summary>
public enum MessageAck
{
    Error = -1,
    Pending = 0,
    Server = 1,
    Device = 2,
    Read = 3,
    Played = 4,
}
