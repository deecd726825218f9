using WapBridge.Core.Engines;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Messaging;

/// <summary>Turns engine receipts into message statuses and records inbound messages.</summary>
public sealed class MessageEventObserver(
    MessageReceipts receipts,
    IMediaStore media,
    InboundRecorder inboundRecorder) : IGroupCommitInstanceEventObserver
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct) =>
        await await StartEngineEventAsync(instance, engineEvent, ct);

    public async ValueTask<Task> StartEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        switch (engineEvent)
        {
            case MessageStatusEvent receipt:
                receipts.Enqueue(instance.Id, receipt);
                break;
            case MessageReceivedEvent received:
                // The message and its webhook delivery are committed in one transaction, with other inbound
                // messages' (InboundRecorder); the media file is on disk (by hash) before the row that points at it.
                var inbound = received.Message;
                string? mediaHash = null;
                if (inbound.Media is { HandedOverHash: { } hash, LocalPath: { } path } handedOver)
                {
                    var stored = await media.AdoptAsync(path, hash, ct);
                    mediaHash = stored.Hash;
                    // The engine's file is gone now: whoever reads the bytes later (a webhook's inline copy) reads the stored one.
                    if (await media.GetLocalPathAsync(stored.Hash, ct) is { } storedPath)
                        inbound = inbound with { Media = EngineMedia.FromFile(storedPath, stored.Size, handedOver.MimeType, handedOver.FileName) };
                }
                else if (inbound.Media is { } file)
                {
                    await using var content = file.OpenRead();
                    mediaHash = (await media.SaveAsync(content, ct)).Hash;
                }
                return inboundRecorder.RecordAsync(instance, inbound, mediaHash);
        }
        return Task.CompletedTask;
    }
}
