using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>Media already in the <see cref="MediaStore"/>.</summary>
public sealed record StoredMedia(string Hash, string MimeType, string Filename, long Size, string Type);

public static class OutboundMessages
{
    /// <summary>
    /// Inserts new rows inside the caller's transaction and sets their ids: on SQLite with one prepared statement
    /// (<see cref="SqlitePreparedInsert"/>), which keeps SQLite's one writer lock short; on PostgreSQL through EF.
    /// </summary>
    public static async Task InsertAsync(WapBridgeDbContext db, IReadOnlyCollection<Message> messages, CancellationToken ct = default)
    {
        if (db.Database.IsSqlite())
        {
            SqlitePreparedInsert.Insert(db, messages, ct);
            return;
        }
        db.Messages.AddRange(messages);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// A new outbound row, queued, with its WhatsApp id chosen now: whoever saves it owns the send,
    /// and a retry after a crash reuses the id. It keeps the current trace (the API call, the dashboard's or campaign's
    /// send), which the outbox's send continues however much later and on whichever node.
    /// </summary>
    public static Message New(Instance instance, string to, string? text, StoredMedia? media, string? caption, string source, long? campaignId,
        DateTimeOffset now, TimeSpan timeToLive)
    {
        var waId = WhatsAppIds.NewMessageId();
        return new Message
        {
            CustomerId = instance.CustomerId,
            InstanceId = instance.Id,
            Direction = Message.Outbound,
            WaMessageId = waId,
            SerializedId = WhatsAppIds.OutboundSerializedId(to, waId, instance.PhoneNumber),
            FromNumber = instance.PhoneNumber,
            ToNumber = to,
            Chat = to,
            Type = media?.Type ?? "chat",
            Body = media is null ? text : caption,
            Caption = media is null ? null : caption,
            Filename = media?.Filename,
            MimeType = media?.MimeType,
            MediaHash = media?.Hash,
            MediaSize = media?.Size,
            Status = MessageStatus.Queued,
            Source = source,
            Priority = MessageSources.Priority(source),
            CampaignId = campaignId,
            CreatedAt = now,
            ExpiresAt = now + timeToLive,
            TraceParent = WapBridgeTelemetry.CurrentTraceParent(),
        };
    }
}
