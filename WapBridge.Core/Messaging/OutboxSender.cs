using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>How one outbox send ended: sent, the session went away (re-queued), failed (with a code), or held (until a time).</summary>
public enum OutboxSendKind { Sent, Disconnected, Failed, Held }

/// <summary>
/// One queued message through the engine, for <see cref="MessageDispatcher"/>, which claims the batch before and
/// records the outcomes after: everything that decides, right before the engine, whether and how this message goes.
/// </summary>
public sealed class OutboxSender(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IMediaStore media,
    NumberCheckCache numberChecks,
    NewContactBudget budget,
    EngineRegistry engines,
    Engines.CloudApi.ServiceWindowRule serviceWindow,
    ILogger<OutboxSender> logger)
{
    /// <summary>
    /// Sends one message the outbox marked <c>sending</c>: its stored file, WhatsApp's answer for the number, Meta's
    /// 24-hour window, a slot of the new-contact budget (persisted before the send), "typing…" for a campaign, then
    /// the engine. <paramref name="stopping"/> is the outbox's: a send is never abandoned for a caller that went away.
    /// </summary>
    public async Task<(OutboxSendKind Outcome, string? Code, string? Error, DateTimeOffset? Until)> SendAsync(
        Instance instance, IEngineSession session, Message message, CancellationToken stopping)
    {
        var instanceId = instance.Id;
        EngineMedia? file = null;
        if (message.MediaHash is not null)
        {
            var path = await media.GetLocalPathAsync(message.MediaHash, stopping);
            if (path is null)
                return (OutboxSendKind.Failed, "media_missing", "The stored media file is missing from the media folder.", null);
            file = EngineMedia.FromStore(path, message.MediaSize ?? new FileInfo(path).Length, message.MimeType!, message.Filename, message.MediaHash);
        }
        try
        {
            NumberCheckResult? check;
            try
            {
                check = OutgoingMessages.IsAddressedAsIs(message.ToNumber!) ? null : await CheckNumberAsync(instanceId, session, message.ToNumber!, stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Retried with backoff: asking again at once would hammer WhatsApp with look-ups.
                logger.LogWarning("Checking whether {Number} is on WhatsApp failed: {Error}", message.ToNumber, e.Message);
                return (OutboxSendKind.Failed, SendFailurePolicy.NumberCheckFailed, e.Message, null);
            }
            if (check is { OnWhatsApp: false })
                return (OutboxSendKind.Failed, "not_on_whatsapp", $"{message.ToNumber} is not on WhatsApp.", null);
            // Meta's 24-hour rule (Cloud API): outside the window, the fallback template or template_required.
            var window = await serviceWindow.CheckAsync(instance, message, stopping);
            if (window.RefusalCode is { } refused)
                return (OutboxSendKind.Failed, refused, window.Refusal, null);
            // After the look-up (which is no message) and right before the engine: a number not on WhatsApp, or a send
            // held for a restriction, never takes a slot. The slot is persisted before the send goes out.
            var claim = OutgoingMessages.IsFirstMessageCandidate(message) && NewContactBudget.AppliesTo(instance.Engine, engines)
                ? await budget.ClaimAsync(instanceId, message.ToNumber!, stopping) : null;
            if (claim is { Allowed: false })
                return (OutboxSendKind.Held, SendFailurePolicy.NewContactBudget, null, claim.HoldUntil);
            if (message.Source == MessageSources.Campaign)
                await ShowTypingAsync(session, message, stopping);
            var outgoing = window.Apply(await OutgoingMessages.ForAsync(dbFactory, message, file, check?.Jid, stopping));
            EngineSendResult result;
            using (var engineSend = WapBridgeTelemetry.Source.StartActivity(TraceNames.EngineSend, ActivityKind.Client))
            {
                engineSend?.SetTag(TraceNames.InstanceTag, instance.Code);
                engineSend?.SetTag(TraceNames.EngineTag, instance.Engine);
                result = await session.SendAsync(outgoing, stopping);
                engineSend.SetOutcome(result.Accepted ? "accepted" : "refused", result.ErrorCode, failed: !result.Accepted);
            }
            if (result.Accepted)
            {
                if (result.EngineMessageId is { } engineId)
                    await StoreEngineIdAsync(message, engineId);
                return (OutboxSendKind.Sent, null, null, null);
            }
            if (claim is { Known: false })
                await budget.ReleaseAsync(instanceId, message.ToNumber!, CancellationToken.None);
            if (check is not null)
                await numberChecks.ForgetAsync(instanceId, message.ToNumber!, CancellationToken.None); // WhatsApp's answer may be stale: ask again next time
            if (result.ErrorCode == "not_connected") return (OutboxSendKind.Disconnected, null, null, null);
            return (OutboxSendKind.Failed, result.ErrorCode ?? "send_failed", result.Error ?? "WhatsApp refused the message.", result.RestrictedUntil);
        }
        catch (EngineFeatureUnavailableException e)
        {
            // The instance moved to an engine that cannot send this kind: waiting would never help.
            return (OutboxSendKind.Failed, e.Code, e.Message, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Engine send of {MessageId} threw; it stays queued", message.SerializedId);
            return (OutboxSendKind.Disconnected, null, null, null);
        }
    }

    /// <summary>
    /// The engine's own id for a message it accepted (Cloud API: Graph's wamid), stored at once rather than with the
    /// batch: Meta's "sent" status for it may arrive while the rest of the batch is still going out.
    /// </summary>
    private async Task StoreEngineIdAsync(Message message, string engineId)
    {
        message.EngineMessageId = engineId;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.EngineMessageId, engineId), CancellationToken.None);
    }

    /// <summary>
    /// "typing…" right before a campaign message, as its sender would show it, in the outbox's order and pace and only
    /// for a message that exists and is going out. Only a courtesy: a failure is logged, never fails the send.
    /// </summary>
    private async Task ShowTypingAsync(IEngineSession session, Message message, CancellationToken stopping)
    {
        try
        {
            await session.SendTypingAsync(message.ToNumber!, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Typing indicator before {MessageId} failed", message.SerializedId);
        }
    }

    /// <summary>
    /// WhatsApp's answer for a number, from the instance's cache when younger than <see cref="NumberCheckCache.Lifetime"/>,
    /// else asked through the session the outbox holds (and cached); null when the engine cannot tell.
    /// </summary>
    private async Task<NumberCheckResult?> CheckNumberAsync(int instanceId, IEngineSession session, string number, CancellationToken stopping)
    {
        if (!session.ChecksNumbers)
            return null;
        var answers = await numberChecks.CheckAsync(instanceId, [number], session.CheckNumbersAsync, stopping);
        return answers.GetValueOrDefault(number);
    }
}
