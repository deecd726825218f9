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

    /// <summary>The SHA-256 of a file the engine hands over to the media store (see <see cref="FromFile"/>).</summary>
    public string? HandedOverHash { get; }

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
    /// <summary>Where WhatsApp said the number lives (a number check's answer); engines address the phone number otherwise.</summary>
    public string? ToJid { get; init; }
}

/// <summary>WhatsApp's answer to "is this number on WhatsApp?": the JID to send to when it is.</summary>
public sealed record NumberCheckResult(bool OnWhatsApp, string? Jid, string? Lid = null);

public sealed record EngineSendResult(bool Accepted, string? Error = null, string? ErrorCode = null)
{
    public static readonly EngineSendResult Ok = new(true);
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
