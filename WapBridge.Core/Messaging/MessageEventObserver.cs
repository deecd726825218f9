using WapBridge.Core.Engines;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Messaging;

/// <summary>Turns engine receipts into message statuses, records inbound messages, and wakes the outbox on connect.</summary>
public sealed class MessageEventObserver(
    MessageDispatcher dispatcher,
    MessageReceipts receipts,
    MediaStore media,
    InboundRecorder inboundRecorder) : IGroupCommitInstanceEventObserver
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct) =>
        await await StartEngineEventAsync(instance, engineEvent, ct);

    public async ValueTask<Task> StartEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
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
                // The message and its webhook delivery are committed in one transaction, with other inbound
                // messages' (InboundRecorder); the media file is on disk (by hash) before the row that points at it.
                var inbound = received.Message;
                var mediaHash = inbound.Media is null ? null : await media.SaveAsync(inbound.Media.Data, ct);
                return inboundRecorder.RecordAsync(instance, inbound, mediaHash);
        }
        return Task.CompletedTask;
    }
}
