using System.Text.Json.Serialization;
using WapBridge.Core.Common;

namespace WapBridge.Core.Messaging;

/// <summary>
/// A message's status, stored and shown as its <see cref="WireNames"/> string (<c>queued</c>, <c>sent</c>, …). The forward
/// path is declared in order (<see cref="Queued"/> to <see cref="Played"/>), so a late receipt never moves a message back.
/// </summary>
[JsonConverter(typeof(WireNameJsonConverter<MessageStatus>))]
public enum MessageStatus
{
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    Received,
}

public static class MessageSources
{
    public const string Api = "api";
    public const string Erpnext = "erpnext";
    public const string Campaign = "campaign";
    public const string Dashboard = "dashboard";
    public const string Inbound = "whatsapp";

    /// <summary>Lower sends first: people waiting on an API call or an ERPNext save go before bulk campaigns.</summary>
    public static int Priority(string source) => source == Campaign ? 10 : 0;
}

/// <summary>
/// One outbound or inbound WhatsApp message. Outbound rows are written (with their WhatsApp id chosen)
/// before anything is sent, and move <c>queued → sending → sent → delivered → read/played</c> or <c>failed</c>.
/// </summary>
public sealed class Message
{
    public long Id { get; set; }
    public int CustomerId { get; set; }
    public int InstanceId { get; set; }

    /// <summary><c>outbound</c> or <c>inbound</c>.</summary>
    public required string Direction { get; set; }

    /// <summary>WhatsApp's own id (<c>3EB0…</c>), generated before the send so a retry reuses it.</summary>
    public required string WaMessageId { get; set; }

    /// <summary>The whatsapp-web.js serialized id the API shows: <c>true_255755123456@c.us_3EB0…</c>.</summary>
    public required string SerializedId { get; set; }

    /// <summary>
    /// The engine's own id when it differs from <see cref="WaMessageId"/>: the Cloud API's <c>wamid.…</c>, which its
    /// statuses and replies name (contract §11: the id the API answered stays ours).
    /// </summary>
    public string? EngineMessageId { get; set; }

    /// <summary>Digits-only numbers; for inbound LID-only senders, <see cref="FromNumber"/> holds the LID.</summary>
    public string? FromNumber { get; set; }
    public string? ToNumber { get; set; }

    /// <summary>
    /// The conversation the message belongs to: the counterpart's number (digits; a LID-only sender's <c>…@lid</c>), or
    /// the group id (<c>…@g.us</c>).
    /// </summary>
    public string? Chat { get; set; }

    /// <summary>The sender's WhatsApp profile name (push name) on inbound messages.</summary>
    public string? SenderName { get; set; }

    public required string Type { get; set; }
    public string? Body { get; set; }
    public string? Caption { get; set; }
    public string? Filename { get; set; }
    public string? MimeType { get; set; }

    /// <summary>SHA-256 of the media bytes, the file name under the media folder.</summary>
    public string? MediaHash { get; set; }
    public long? MediaSize { get; set; }

    /// <summary>WhatsApp id of the message this one replies to.</summary>
    public string? QuotedId { get; set; }

    /// <summary>The numbers the text mentions (digits, comma-separated).</summary>
    public string? Mentions { get; set; }

    /// <summary>Kind-specific content as JSON: a location, shared contacts, a poll (see <see cref="MessageContent"/>).</summary>
    public string? Content { get; set; }

    /// <summary>WhatsApp id of the message a reaction, edit or delete acts on.</summary>
    public string? TargetId { get; set; }

    public required MessageStatus Status { get; set; }
    public int Ack { get; set; }
    public string? Error { get; set; }
    public string? ErrorCode { get; set; }
    public required string Source { get; set; }
    public int Priority { get; set; }
    public long? CampaignId { get; set; }
    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A queued message still unsent at this time fails with <c>expired</c>.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Why a queued message is held back (<c>account_restricted</c>, <c>new_contact_budget</c>), and until when.</summary>
    public string? HoldReason { get; set; }
    public DateTimeOffset? NextSendAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? ReadAt { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the work that accepted or received this message, so the outbox's send and the
    /// webhook delivery it causes continue that trace (<see cref="Telemetry.WapBridgeTelemetry"/>).
    /// </summary>
    public string? TraceParent { get; set; }

    public const string Outbound = "outbound";
    public const string Inbound = "inbound";
}
