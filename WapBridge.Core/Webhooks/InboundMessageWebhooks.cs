using Microsoft.Extensions.Options;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

/// <summary>The <c>message</c> webhook of each stored inbound message, committed with the message (contract §7).</summary>
public sealed class InboundMessageWebhooks(WebhookOutbox outbox, MediaLinks mediaLinks, IOptions<WebhookOptions> options) : IInboundMessageObserver
{
    public Task<bool> AddAsync(WapBridgeDbContext db, RecordedInbound message, CancellationToken ct) =>
        outbox.AddAsync(db, message.Instance.CustomerId, message.Instance.Id, WebhookEvents.Message, () => Payload(message), ct, traceParent: message.TraceParent);

    public void Committed() => outbox.Committed();

    private string Payload(RecordedInbound m)
    {
        PayloadMedia? payloadMedia = null;
        if (m.Inbound.Media is { } file)
        {
            var inline = file.Length <= options.Value.InlineMediaBytes ? file.Data : null;
            payloadMedia = new PayloadMedia(file.MimeType, file.FileName, file.Length, inline,
                mediaLinks.Create(new MediaLinkTarget(m.MediaHash!, file.MimeType, file.FileName)));
        }
        return WebhookPayloads.InboundMessage(m.Instance.Code, m.CustomerCode, m.Instance.PhoneNumber, m.SerializedId, m.Inbound, payloadMedia);
    }
}
