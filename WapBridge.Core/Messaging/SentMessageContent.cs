namespace WapBridge.Core.Messaging;

/// <summary>
/// The content of a message as the engine sent it (Baileys: the encoded <c>proto.Message</c>, media keys included),
/// encrypted at rest, kept for a while so a recipient that could not decrypt can ask for a resend
/// (Baileys' <c>getMessage</c>) after a reconnect, a bridge restart or on another node.
/// </summary>
public sealed class SentMessageContent
{
    public long Id { get; set; }
    public int InstanceId { get; set; }

    /// <summary>WhatsApp's message id (<c>3EB0…</c>).</summary>
    public required string WaMessageId { get; set; }

    /// <summary>The chat the message went to, as the engine addressed it.</summary>
    public required string RemoteJid { get; set; }

    public required byte[] Content { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
