namespace WapBridge.Core.Engines;

public sealed record EngineMedia(byte[] Data, string MimeType, string? FileName);

/// <summary>A message to send; <see cref="Id"/> is chosen and stored by the caller before the send.</summary>
public sealed record OutgoingMessage(string Id, string ToPhone, string? Text, EngineMedia? Media = null, string? Caption = null);

public sealed record EngineSendResult(bool Accepted, string? Error = null, string? ErrorCode = null)
{
    public static readonly EngineSendResult Ok = new(true);
    public static EngineSendResult Failed(string code, string error) => new(false, error, code);
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
    DateTimeOffset Timestamp);
