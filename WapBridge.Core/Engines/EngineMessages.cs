using Orleans.Concurrency;

namespace WapBridge.Core.Engines;

/// <summary>
/// A media file an engine sends or received: bytes in memory (what engines receive), or a file on this machine (what
/// the outbox sends from the media store, so that a large file is read only by an engine that needs its bytes).
/// </summary>
public sealed class EngineMedia
{
    private readonly byte[]? _data;

    public EngineMedia(byte[] data, string mimeType, string? fileName)
    {
        _data = data;
        Length = data.Length;
        MimeType = mimeType;
        FileName = fileName;
    }

    private EngineMedia(string localPath, long length, string mimeType, string? fileName, string? handedOverHash)
    {
        LocalPath = localPath;
        HandedOverHash = handedOverHash;
        Length = length;
        MimeType = mimeType;
        FileName = fileName;
    }

    /// <param name="handedOverHash">
    /// Set when the engine hands the file over (its SHA-256, which names it): the media store takes the file itself,
    /// moving it rather than copying it.
    /// </param>
    public static EngineMedia FromFile(string localPath, long length, string mimeType, string? fileName, string? handedOverHash = null) =>
        new(localPath, length, mimeType, fileName, handedOverHash);

    /// <summary>
    /// A file of the media store, named by its SHA-256 (<paramref name="hash"/>): what an engine needs to hand out a
    /// signed link to it (<see cref="StoredHash"/>) instead of sending its bytes.
    /// </summary>
    public static EngineMedia FromStore(string localPath, long length, string mimeType, string? fileName, string hash) =>
        new(localPath, length, mimeType, fileName, null) { StoredHash = hash };

    /// <summary>The SHA-256 of a file the engine hands over to the media store (see <see cref="FromFile"/>).</summary>
    public string? HandedOverHash { get; }

    /// <summary>The media store's name (SHA-256) of an outgoing file read from it (see <see cref="FromStore"/>).</summary>
    public string? StoredHash { get; private init; }

    public string MimeType { get; }
    public string? FileName { get; }
    public long Length { get; }

    /// <summary>Where the bytes are on this machine when they are not in memory.</summary>
    public string? LocalPath { get; }

    /// <summary>The bytes; for a file, read now (each use reads it again: prefer <see cref="OpenRead"/>).</summary>
    public byte[] Data => _data ?? File.ReadAllBytes(LocalPath!);

    public Stream OpenRead() => _data is not null
        ? new MemoryStream(_data, writable: false)
        : new FileStream(LocalPath!, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
}

/// <summary>A message to send; <see cref="Id"/> is chosen and stored by the caller before the send.</summary>
public sealed record OutgoingMessage(string Id, string ToPhone, string? Text, EngineMedia? Media = null, string? Caption = null)
{
    /// <summary>
    /// Where WhatsApp said the number lives (a number check's answer), or the group (<c>…@g.us</c>) when
    /// <see cref="ToPhone"/> is a group id; engines address the phone number otherwise.
    /// </summary>
    public string? ToJid { get; init; }

    /// <summary>The message this one replies to (WhatsApp shows the quote).</summary>
    public EngineQuote? Quoted { get; init; }

    /// <summary>The mentioned users' JIDs (<c>&lt;digits&gt;@s.whatsapp.net</c>); the text holds <c>@&lt;digits&gt;</c> for each.</summary>
    public IReadOnlyList<string>? Mentions { get; init; }

    /// <summary>Anything but text or media (a reaction, a location, …): the send is that, and <see cref="Text"/> is unused.</summary>
    public OutgoingContent? Content { get; init; }
}

/// <summary>
/// A message as WhatsApp addresses it (Baileys' <c>WAMessageKey</c>): its id, the chat it is in, whether we sent it,
/// and in a group who did.
/// </summary>
[GenerateSerializer, Immutable, Alias("wapbridge.message-key")]
public sealed record EngineMessageKey(
    [property: Id(0)] string Id,
    [property: Id(1)] string RemoteJid,
    [property: Id(2)] bool FromMe,
    [property: Id(3)] string? Participant = null);

/// <summary>A quoted message: its key, and its text when known (what the reply shows of it).</summary>
public sealed record EngineQuote(EngineMessageKey Key, string? Text);

/// <summary>What a send is when it is not text or media; exactly one kind per send.</summary>
public abstract record OutgoingContent
{
    /// <summary>The feature name an engine that cannot send this reports (<see cref="EngineFeatureUnavailableException"/>).</summary>
    public abstract string Feature { get; }
}

/// <summary>An emoji on <see cref="Target"/>; empty removes ours.</summary>
public sealed record OutgoingReaction(EngineMessageKey Target, string Emoji) : OutgoingContent
{
    public override string Feature => EngineFeatures.Reactions;
}

public sealed record OutgoingLocation(double Latitude, double Longitude, string? Name, string? Address) : OutgoingContent
{
    public override string Feature => EngineFeatures.Locations;
}

public sealed record OutgoingContact(string Name, string Number);

/// <summary>Contact cards; the engine builds the vCards.</summary>
public sealed record OutgoingContacts(IReadOnlyList<OutgoingContact> Contacts) : OutgoingContent
{
    public override string Feature => EngineFeatures.Contacts;
}

/// <summary>A poll; <see cref="SelectableCount"/> 1 allows one answer, 0 any number (WhatsApp's encoding).</summary>
public sealed record OutgoingPoll(string Name, IReadOnlyList<string> Options, int SelectableCount) : OutgoingContent
{
    public override string Feature => EngineFeatures.Polls;
}

/// <summary>New text for our own message <see cref="Target"/>.</summary>
public sealed record OutgoingEdit(EngineMessageKey Target, string Text) : OutgoingContent
{
    public override string Feature => EngineFeatures.Edits;
}

/// <summary>Deletes our own message <see cref="Target"/> for everyone (a revoke).</summary>
public sealed record OutgoingDelete(EngineMessageKey Target) : OutgoingContent
{
    public override string Feature => EngineFeatures.DeleteForEveryone;
}

/// <summary>The optional things an engine may do (<see cref="IWhatsAppEngine.Supports"/>), named as the API's 409 names them.</summary>
public static class EngineFeatures
{
    public const string Replies = "replies";
    public const string Mentions = "mentions";
    public const string Reactions = "reactions";
    public const string Locations = "locations";
    public const string Contacts = "contacts";
    public const string Polls = "polls";
    public const string Edits = "edits";
    public const string DeleteForEveryone = "delete_for_everyone";
    public const string DeleteForMe = "delete_for_me";
    public const string ReadReceipts = "mark_read";
    public const string Presence = "presence";
    public const string Profiles = "profiles";
    public const string Groups = "groups";
    public const string Templates = "templates";

    /// <summary>
    /// Not an ability but a rule (Cloud API): free-form messages reach a contact only within 24 h of the contact's last
    /// message; the outbox then sends the fallback template or fails with <c>template_required</c>.
    /// </summary>
    public const string ServiceWindow = "service_window";
}

/// <summary>Presence states a session can show (Baileys' <c>WAPresence</c>).</summary>
public static class EnginePresence
{
    public const string Composing = "composing";
    public const string Recording = "recording";
    public const string Paused = "paused";
    public const string Available = "available";
    public const string Unavailable = "unavailable";

    public static readonly IReadOnlyList<string> All = [Composing, Recording, Paused, Available, Unavailable];
}

/// <summary>WhatsApp's answer to "is this number on WhatsApp?": the JID to send to when it is, and the LID's user part when told.</summary>
[GenerateSerializer, Immutable, Alias("wapbridge.number-check")]
public sealed record NumberCheckResult([property: Id(0)] bool OnWhatsApp, [property: Id(1)] string? Jid, [property: Id(2)] string? Lid = null);

public sealed record EngineSendResult(bool Accepted, string? Error = null, string? ErrorCode = null)
{
    public static readonly EngineSendResult Ok = new(true);

    /// <summary>Accepted under the engine's own id (Cloud API: Graph's <c>wamid</c>), which the outbox stores beside ours.</summary>
    public static EngineSendResult Sent(string engineMessageId) => new(true) { EngineMessageId = engineMessageId };

    /// <summary>The engine's id for the sent message when it is not ours (<see cref="Sent"/>); statuses and replies use it.</summary>
    public string? EngineMessageId { get; init; }
    public static EngineSendResult Failed(string code, string error) => new(false, error, code);

    /// <summary>With error 463: until when WhatsApp restricts the account, when it said.</summary>
    public DateTimeOffset? RestrictedUntil { get; init; }
}

/// <summary>
/// An inbound message as an engine sees it, before it is mapped to the webhook payload.
/// Senders are known by phone number, by LID, or both.
/// </summary>
public sealed record InboundEngineMessage(
    string Id,
    string? FromPhone,
    string? FromLid,
    string? PushName,
    string? GroupId,
    string Type,
    string? Body,
    EngineMedia? Media,
    string? QuotedId,
    DateTimeOffset Timestamp)
{
    /// <summary>The text (or caption) of the message <see cref="QuotedId"/> as the sender's phone quoted it.</summary>
    public string? QuotedBody { get; init; }

    /// <summary>The users the message mentions: phone digits, or a LID (<c>…@lid</c>) when the number is unknown.</summary>
    public IReadOnlyList<string>? Mentions { get; init; }

    /// <summary>Type <c>location</c>: where the sender shared.</summary>
    public EngineLocation? Location { get; init; }

    /// <summary>Types <c>vcard</c> and <c>multi_vcard</c>: the shared contacts as vCard text.</summary>
    public IReadOnlyList<string>? VCards { get; init; }

    /// <summary>Type <c>reaction</c>: the emoji (empty when a reaction is removed) and the message it reacts to.</summary>
    public EngineReaction? Reaction { get; init; }

    /// <summary>Type <c>poll_creation</c>: the question and its options.</summary>
    public EnginePoll? Poll { get; init; }

    /// <summary>Type <c>revoked</c>: the id of the message the sender deleted for everyone.</summary>
    public string? RevokedId { get; init; }

    /// <summary>Type <c>video</c> sent as a round video note (WhatsApp's <c>ptvMessage</c>).</summary>
    public bool VideoNote { get; init; }

    /// <summary>
    /// The sender edited an earlier message: not a message of its own (no row, no <c>message</c> webhook); the
    /// stored original gets the new text.
    /// </summary>
    public EngineEdit? Edit { get; init; }

    /// <summary>A vote on a poll: not a message of its own either; what the voter chose.</summary>
    public EnginePollVote? PollVote { get; init; }

    /// <summary>
    /// The message has media the engine is still downloading: the host stores it now and sends its webhook once
    /// the same message comes again as a <see cref="MediaFollowUp"/>, so <c>hasMedia</c> never arrives without media.
    /// </summary>
    public bool MediaPending { get; init; }

    /// <summary>The media of a message handed over earlier as <see cref="MediaPending"/>: <see cref="Media"/> or <see cref="MediaError"/>.</summary>
    public bool MediaFollowUp { get; init; }

    /// <summary>Why the media could not be downloaded (the webhook then says <c>media.error</c>).</summary>
    public string? MediaError { get; init; }

    /// <summary>
    /// The engine's own id of the message when <see cref="Id"/> cannot be it (a Cloud API <c>wamid</c> longer than our
    /// id column): kept as the row's <c>EngineMessageId</c>, which replies and mark-read hand back to the engine.
    /// </summary>
    public string? EngineMessageId { get; init; }

    /// <summary>A tap on a reply button (or a template's quick-reply button): the button's id or payload, as whatsapp-web.js names it.</summary>
    public string? SelectedButtonId { get; init; }

    /// <summary>A choice from a list message: the row's id, as whatsapp-web.js names it.</summary>
    public string? SelectedRowId { get; init; }
}

public sealed record EngineLocation(double Latitude, double Longitude, string? Name, string? Address, string? Url);

public sealed record EngineReaction(string Emoji, string TargetId);

public sealed record EnginePoll(string Name, IReadOnlyList<string> Options, int SelectableCount);

/// <summary>The new text (or caption) of the message <see cref="TargetId"/>.</summary>
public sealed record EngineEdit(string TargetId, string Body);

/// <summary>
/// A voter's current choice on poll <see cref="PollId"/> (empty: the vote was withdrawn). <see cref="Decrypted"/> is
/// false when the engine did not know the poll's secret; <see cref="SelectedHashes"/> (SHA-256 hex of an option name)
/// also lists options whose name the engine did not know.
/// </summary>
public sealed record EnginePollVote(string PollId, bool Decrypted, IReadOnlyList<string> SelectedOptions, IReadOnlyList<string> SelectedHashes);
