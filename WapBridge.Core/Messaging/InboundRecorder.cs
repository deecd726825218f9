using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Group commit for inbound messages: engine events hand their message to one writer, which stores
/// everything waiting — the message rows and what observers add for them (their <c>message</c> webhook deliveries) — in a single
/// transaction, then answers each event. A message and its delivery still commit together, and an event
/// is acknowledged only after its commit; the database just syncs once per batch instead of once per message.
/// A sender known by LID gets the phone number the instance learned for it (<see cref="LidMapping"/>); the same
/// message seen twice — redelivered, or once by LID and once by phone number — is stored once. A message whose
/// media is still downloading is stored at once and gets its webhook when the media (or its failure) follows.
/// </summary>
public sealed class InboundRecorder(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IEnumerable<IInboundMessageObserver> observers,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<InboundRecorder> logger) : BackgroundService
{
    private const int MaxBatch = 512;

    /// <summary><see cref="Message.HoldReason"/> of an inbound row whose media is still downloading (its webhook waits for it).</summary>
    public const string MediaPendingHold = "media_pending";

    private readonly Channel<PendingInbound> _queue = Channel.CreateUnbounded<PendingInbound>(new UnboundedChannelOptions { SingleReader = true });

    // Customer codes never change once issued, so one lookup per customer for the life of the process is enough.
    private readonly ConcurrentDictionary<int, string> _customerCodes = new();

    /// <param name="MediaHash">Set when the message has media: it is saved to disk before the row that points at it.</param>
    /// <param name="TraceParent">The trace of the event that brought the message, kept on its row and webhook delivery.</param>
    private sealed class PendingInbound(Instance instance, InboundEngineMessage inbound, string? mediaHash, string? traceParent)
    {
        public string? TraceParent { get; } = traceParent;
        public Instance Instance { get; } = instance;
        public InboundEngineMessage Inbound { get; set; } = inbound;
        public string SerializedId { get; set; } = "";
        public string? MediaHash { get; } = mediaHash;
        public TaskCompletionSource<bool> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Queues <paramref name="inbound"/> for the next batch. The task completes once the message (and its webhook
    /// delivery, when the customer subscribes) is committed: true when it was new, false for a duplicate of a
    /// stored message. It fails when the message could not be stored or WapBridge stopped first.
    /// </summary>
    public Task<bool> RecordAsync(Instance instance, InboundEngineMessage inbound, string? mediaHash, string? traceParent = null)
    {
        var pending = new PendingInbound(instance, inbound, mediaHash, traceParent);
        if (!_queue.Writer.TryWrite(pending))
            throw new InvalidOperationException("WapBridge is shutting down and records no more inbound messages.");
        return pending.Committed.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingInbound>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
                await CommitNextBatchAsync(batch);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Stopping: refuse new messages (their events fail, so the engine keeps them), and store those already
            // queued — their events are waiting for the commit. The host's shutdown timeout bounds this.
            _queue.Writer.TryComplete();
            await DrainAsync(batch);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A host stopped before ExecuteAsync got to run (it starts on the thread pool) never runs it: store what was queued here.
        if (ExecuteTask is null || ExecuteTask.IsCompleted)
        {
            _queue.Writer.TryComplete();
            await DrainAsync(new List<PendingInbound>(MaxBatch));
        }
    }

    private async Task DrainAsync(List<PendingInbound> batch)
    {
        // TryPeek, not Count: a single-reader channel cannot count.
        while (_queue.Reader.TryPeek(out _))
            await CommitNextBatchAsync(batch);
    }

    private async Task CommitNextBatchAsync(List<PendingInbound> batch)
    {
        batch.Clear();
        while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            batch.Add(pending);
        await CommitAsync(batch);
    }

    private async Task CommitAsync(List<PendingInbound> batch)
    {
        try
        {
            var announced = await WriteAsync(batch);
            foreach (var observer in announced)
                observer.Committed();
        }
        catch (Exception e) when (batch.Count > 1)
        {
            // One bad message must not fail its neighbours: retry them one by one.
            logger.LogWarning(e, "Batch of {Count} inbound messages failed to commit; retrying one by one", batch.Count);
            foreach (var p in batch)
                await CommitAsync([p]);
        }
        catch (Exception e)
        {
            batch[0].Committed.TrySetException(e);
        }
    }

    /// <summary>Stores the batch in one transaction and answers its events; the observers that added something to it.</summary>
    private async Task<HashSet<IInboundMessageObserver>> WriteAsync(List<PendingInbound> batch)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        // Only new rows are added and a few loaded ones changed: changes are detected once, before saving.
        db.ChangeTracker.AutoDetectChangesEnabled = false;

        var instanceIds = batch.Select(p => p.Instance.Id).Distinct().ToList();
        await ResolveSendersAsync(db, batch, instanceIds);

        // The same message twice (an engine resending it, by LID once and by phone once, within the batch or later)
        // is stored once: same instance, WhatsApp id and sender (inbound rows are never our own messages).
        // An edit is about its original message, which is all it changes.
        var waIds = batch.Select(p => p.Inbound.Edit?.TargetId ?? p.Inbound.Id)
            .Concat(batch.Select(p => p.Inbound.RevokedId).OfType<string>()).Distinct().ToList();
        var known = await db.Messages
            .Where(m => m.Direction == Message.Inbound && instanceIds.Contains(m.InstanceId) && waIds.Contains(m.WaMessageId))
            .ToListAsync();

        await LoadCustomerCodesAsync(db, batch);
        var quotedBodies = await QuotedBodiesAsync(db, batch, instanceIds);
        var now = time.GetUtcNow();
        var fresh = new HashSet<PendingInbound>(batch.Count, ReferenceEqualityComparer.Instance);
        var announced = new HashSet<IInboundMessageObserver>(ReferenceEqualityComparer.Instance);
        var added = new List<(Message Row, string InstanceCode)>();
        foreach (var p in batch)
        {
            // A poll vote is no message of its own (contract §5 has no type for it): its engine event carries it.
            if (p.Inbound.PollVote is not null)
                continue;
            if (p.Inbound.Edit is { } edit)
            {
                if (ApplyEdit(known, p, edit))
                    fresh.Add(p);
                continue;
            }
            var row = known.FirstOrDefault(m => m.InstanceId == p.Instance.Id && m.WaMessageId == p.Inbound.Id && IsSender(p.Inbound, m.FromNumber));
            if (row is null)
            {
                row = NewMessage(p, now);
                known.Add(row);
                db.Messages.Add(row);
                added.Add((row, p.Instance.Code));
                if (p.Inbound.MediaPending)
                    row.HoldReason = MediaPendingHold;
            }
            else if (p.Inbound.MediaFollowUp && row.HoldReason == MediaPendingHold)
            {
                p.SerializedId = row.SerializedId;
                AttachMedia(row, p);
            }
            else
            {
                continue;
            }
            fresh.Add(p);
            if (p.Inbound.RevokedId is { } revokedId)
                ApplyRevoke(known, p, revokedId);
            if (row.HoldReason != MediaPendingHold)
            {
                var inbound = p.Inbound.QuotedId is { } quotedId && quotedBodies.TryGetValue((p.Instance.Id, quotedId), out var quotedBody)
                    ? p.Inbound with { QuotedBody = quotedBody }
                    : p.Inbound;
                var recorded = new RecordedInbound(p.Instance, _customerCodes[p.Instance.CustomerId], p.SerializedId, inbound, p.MediaHash,
                    row.TraceParent ?? p.TraceParent);
                foreach (var observer in observers)
                    if (await observer.AddAsync(db, recorded, CancellationToken.None))
                        announced.Add(observer);
            }
        }
        if (fresh.Count > 0)
        {
            db.ChangeTracker.DetectChanges();
            await db.SaveChangesAsync();
        }
        foreach (var p in batch)
            p.Committed.TrySetResult(fresh.Contains(p));
        foreach (var (row, instanceCode) in added)
            metrics.RecordInbound(_customerCodes[row.CustomerId], instanceCode, row.Type);
        return announced;
    }

    /// <summary>The stored text of the messages the batch's replies quote (ours or theirs), which wins over the engine's copy.</summary>
    private static async Task<Dictionary<(int, string), string>> QuotedBodiesAsync(WapBridgeDbContext db, List<PendingInbound> batch, List<int> instanceIds)
    {
        var quotedIds = batch.Select(p => p.Inbound.QuotedId).OfType<string>().Distinct().ToList();
        if (quotedIds.Count == 0)
            return [];
        var rows = await db.Messages.AsNoTracking()
            .Where(m => instanceIds.Contains(m.InstanceId) && quotedIds.Contains(m.WaMessageId) && (m.Body != null || m.Caption != null))
            .Select(m => new { m.InstanceId, m.WaMessageId, Text = m.Caption ?? m.Body })
            .ToListAsync();
        var bodies = new Dictionary<(int, string), string>();
        foreach (var row in rows)
            bodies.TryAdd((row.InstanceId, row.WaMessageId), row.Text!);
        return bodies;
    }

    /// <summary>
    /// The sender's stored message gets the edited text (its caption, for media); false when there is none (an edit of a
    /// message from before this instance, or not from this sender: only the author can edit) or nothing changed.
    /// </summary>
    private bool ApplyEdit(List<Message> known, PendingInbound p, EngineEdit edit)
    {
        var original = known.FirstOrDefault(m => m.InstanceId == p.Instance.Id && m.WaMessageId == edit.TargetId && IsSender(p.Inbound, m.FromNumber));
        if (original is null)
        {
            logger.LogInformation("Edit of message {MessageId} to instance {Instance} ignored: no such message from that sender", edit.TargetId, p.Instance.Code);
            return false;
        }
        if (original.Body == edit.Body)
            return false;
        original.Body = edit.Body;
        if (original.Caption is not null)
            original.Caption = edit.Body;
        return true;
    }

    /// <summary>The sender deleted their message for everyone: our copy of it is gone too, as on their chat partner's phone.</summary>
    private static void ApplyRevoke(List<Message> known, PendingInbound p, string revokedId)
    {
        var original = known.FirstOrDefault(m => m.InstanceId == p.Instance.Id && m.WaMessageId == revokedId && m.Type != RevokedType && IsSender(p.Inbound, m.FromNumber));
        if (original is null)
            return;
        original.Type = RevokedType;
        original.Body = null;
        original.Caption = null;
    }

    private const string RevokedType = "revoked";

    /// <summary>Fills in the phone number of LID senders (and the LID of phone senders) from what the instance learned.</summary>
    private static async Task ResolveSendersAsync(WapBridgeDbContext db, List<PendingInbound> batch, List<int> instanceIds)
    {
        var lids = batch.Select(p => WhatsAppIds.LidUserOf(p.Inbound.FromLid)).OfType<string>().Distinct().ToList();
        var phones = batch.Select(p => p.Inbound.FromPhone).OfType<string>().Distinct().ToList();
        var (phoneByLid, lidByPhone) = await LidMappings.LoadAsync(db, instanceIds, lids, phones);
        foreach (var p in batch)
        {
            var inbound = p.Inbound;
            if (inbound.FromPhone is null && WhatsAppIds.LidUserOf(inbound.FromLid) is { } lid && phoneByLid.TryGetValue((p.Instance.Id, lid), out var phone))
                inbound = inbound with { FromPhone = phone };
            else if (inbound.FromLid is null && inbound.FromPhone is { } number && lidByPhone.TryGetValue((p.Instance.Id, number), out var knownLid))
                inbound = inbound with { FromLid = knownLid + WhatsAppIds.LidSuffix };
            p.Inbound = inbound;
            p.SerializedId = WhatsAppIds.InboundSerializedId(inbound.FromPhone, inbound.FromLid, inbound.GroupId, inbound.Id);
        }
    }


    private static string Truncate(string text) => text.Length > 500 ? text[..500] : text;


    // A stored row names its sender by phone when it was known, else by LID.
    private static bool IsSender(InboundEngineMessage inbound, string? fromNumber) =>
        fromNumber is not null && (fromNumber == inbound.FromPhone || fromNumber == inbound.FromLid);

    private static void AttachMedia(Message row, PendingInbound p)
    {
        row.HoldReason = null;
        if (p.Inbound.Media is { } media)
        {
            row.MediaHash = p.MediaHash;
            row.MimeType = media.MimeType;
            row.Filename = media.FileName;
            row.MediaSize = media.Length;
        }
        else
        {
            row.Error = Truncate("media could not be downloaded: " + p.Inbound.MediaError);
        }
    }

    private async Task LoadCustomerCodesAsync(WapBridgeDbContext db, List<PendingInbound> batch)
    {
        var missing = batch.Select(p => p.Instance.CustomerId).Distinct().Where(id => !_customerCodes.ContainsKey(id)).ToList();
        if (missing.Count == 0)
            return;
        foreach (var c in await db.Customers.AsNoTracking().Where(c => missing.Contains(c.Id)).Select(c => new { c.Id, c.Code }).ToListAsync())
            _customerCodes[c.Id] = c.Code;
    }

    private static Message NewMessage(PendingInbound p, DateTimeOffset now)
    {
        var (instance, inbound) = (p.Instance, p.Inbound);
        return new Message
        {
            CustomerId = instance.CustomerId,
            InstanceId = instance.Id,
            Direction = Message.Inbound,
            WaMessageId = inbound.Id,
            EngineMessageId = inbound.EngineMessageId,
            SerializedId = p.SerializedId,
            FromNumber = inbound.FromPhone ?? inbound.FromLid,
            SenderName = string.IsNullOrWhiteSpace(inbound.PushName) ? null : inbound.PushName.Trim() is { Length: > MaxSenderName } name ? name[..MaxSenderName] : inbound.PushName.Trim(),
            ToNumber = instance.PhoneNumber,
            Chat = inbound.GroupId ?? inbound.FromPhone ?? inbound.FromLid,
            QuotedId = inbound.QuotedId is { Length: <= MaxWaId } quoted ? quoted : null,
            Mentions = inbound.Mentions is { Count: > 0 } mentions && string.Join(',', mentions) is { Length: <= MaxMentions } joined ? joined : null,
            TargetId = (inbound.Reaction?.TargetId ?? inbound.RevokedId) is { Length: <= MaxWaId } target ? target : null,
            Content = inbound.Location is { } place ? MessageContent.Write(new LocationContent(place.Latitude, place.Longitude, place.Name, place.Address))
                : inbound.Poll is { } poll ? MessageContent.Write(new PollContent(poll.Name, poll.Options, poll.SelectableCount != 1))
                : null,
            Type = inbound.Type,
            Body = inbound.Body,
            Caption = inbound.Media is null && inbound.MediaError is null && !inbound.MediaPending ? null : inbound.Body,
            Filename = inbound.Media?.FileName,
            MimeType = inbound.Media?.MimeType,
            MediaHash = p.MediaHash,
            MediaSize = inbound.Media?.Length,
            Error = inbound.Media is null && inbound.MediaError is not null ? Truncate("media could not be downloaded: " + inbound.MediaError) : null,
            Status = MessageStatus.Received,
            Source = MessageSources.Inbound,
            CreatedAt = now,
            TraceParent = p.TraceParent,
        };
    }

    private const int MaxSenderName = 100; // Message.SenderName's column
    private const int MaxMentions = 2000; // Message.Mentions' column
    private const int MaxWaId = 64; // Message.QuotedId's and TargetId's columns
}
