using System.Diagnostics;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Telemetry;

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
                // A message from WhatsApp starts its own trace, which its row and its webhook delivery keep; whatever
                // activity the engine's thread carries is no cause of it.
                var activity = WapBridgeTelemetry.StartRoot(TraceNames.MessageReceive, ActivityKind.Consumer);
                activity?.SetTag(TraceNames.InstanceTag, instance.Code);
                try
                {
                    var committed = await ReceiveAsync(instance, received.Message, ct);
                    return activity is null ? committed : EndWhenStoredAsync(activity, committed);
                }
                catch (Exception e)
                {
                    activity?.AddException(e).SetOutcome("failed", failed: true);
                    activity?.Dispose();
                    throw;
                }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// The message and its webhook delivery are committed in one transaction, with other inbound messages'
    /// (<see cref="InboundRecorder"/>); the media file is on disk (by hash) before the row that points at it.
    /// </summary>
    private async Task<Task<bool>> ReceiveAsync(Instance instance, InboundEngineMessage inbound, CancellationToken ct)
    {
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
        return inboundRecorder.RecordAsync(instance, inbound, mediaHash, WapBridgeTelemetry.CurrentTraceParent());
    }

    private static async Task EndWhenStoredAsync(Activity activity, Task<bool> committed)
    {
        using (activity)
        {
            try
            {
                activity.SetOutcome(await committed ? "stored" : "duplicate");
            }
            catch (Exception e)
            {
                activity.AddException(e).SetOutcome("failed", failed: true);
                throw;
            }
        }
    }
}
