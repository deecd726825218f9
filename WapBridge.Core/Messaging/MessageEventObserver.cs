using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using Microsoft.Extensions.Options;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core.Messaging;

/// <summary>Turns engine receipts into message statuses, records inbound messages, and wakes the outbox on connect.</summary>
public sealed class MessageEventObserver(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    MessageDispatcher dispatcher,
    MessageReceipts receipts,
    MediaStore media,
    WebhookOutbox webhooks,
    MediaLinks mediaLinks,
    IOptions<WebhookOptions> webhookOptions,
    TimeProvider time) : IInstanceEventObserver
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        switch (engineEvent)
        {
            case ConnectedEvent:
                dispatcher.Wake(instance.Id);
                break;
            case MessageStatusEvent receipt:
                receipts.Enqueue(instance.Id, receipt);
                break;
            case MessageReceivedEvent received:
                await RecordInboundAsync(instance, received.Message, ct);
                break;
        }
    }

    /// <summary>The inbound message and its webhook delivery are committed in one transaction: neither exists without the other.</summary>
    private async Task RecordInboundAsync(Instance instance, InboundEngineMessage inbound, CancellationToken ct)
    {
        var serialized = WhatsAppIds.InboundSerializedId(inbound.FromPhone, inbound.FromLid, inbound.GroupId, inbound.Id);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Messages.AnyAsync(m => m.InstanceId == instance.Id && m.SerializedId == serialized, ct))
            return;
        var mediaHash = inbound.Media is null ? null : await media.SaveAsync(inbound.Media.Data, ct);
        db.Messages.Add(new Message
        {
            CustomerId = instance.CustomerId,
            InstanceId = instance.Id,
            Direction = Message.Inbound,
            WaMessageId = inbound.Id,
            SerializedId = serialized,
            FromNumber = inbound.FromPhone ?? inbound.FromLid,
            ToNumber = instance.PhoneNumber,
            Type = inbound.Type,
            Body = inbound.Body,
            Caption = inbound.Media is null ? null : inbound.Body,
            Filename = inbound.Media?.FileName,
            MimeType = inbound.Media?.MimeType,
            MediaHash = mediaHash,
            MediaSize = inbound.Media?.Data.Length,
            Status = MessageStatuses.Received,
            Source = MessageSources.Inbound,
            CreatedAt = time.GetUtcNow(),
        });

        var customerCode = await db.Customers.Where(c => c.Id == instance.CustomerId).Select(c => c.Code).SingleAsync(ct);
        var queued = await webhooks.AddAsync(db, instance.CustomerId, instance.Id, WebhookEvents.Message, () =>
        {
            PayloadMedia? payloadMedia = null;
            if (inbound.Media is { } file)
            {
                var inline = file.Data.Length <= webhookOptions.Value.InlineMediaBytes ? file.Data : null;
                payloadMedia = new PayloadMedia(file.MimeType, file.FileName, file.Data.Length, inline,
                    mediaLinks.Create(new MediaLinkTarget(mediaHash!, file.MimeType, file.FileName)));
            }
            return WebhookPayloads.InboundMessage(instance.Code, customerCode, instance.PhoneNumber, serialized, inbound, payloadMedia);
        }, ct);
        await db.SaveChangesAsync(ct);
        if (queued)
            webhooks.Committed();
    }
}
