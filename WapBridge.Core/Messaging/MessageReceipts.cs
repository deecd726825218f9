using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Engines;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>Told about each batch of receipts once the message rows carry them.</summary>
public interface IReceiptListener
{
    Task OnAppliedAsync(IReadOnlyList<(int InstanceId, string WaMessageId)> receipts, CancellationToken ct);
}

/// <summary>
/// Applies delivery receipts to message rows in batches: one UPDATE per (instance, status) per batch
/// instead of one per receipt. Statuses only move forward, so a late "delivered" never undoes "read".
/// </summary>
public sealed class MessageReceipts(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IEnumerable<IReceiptListener> listeners,
    GatewayMetrics metrics,
    ILogger<MessageReceipts> logger)
    : BackgroundService
{
    private const int MaxBatch = 1000;

    // Receipts are not urgent: gathering them for a moment turns hundreds of small UPDATEs a second (each holding
    // SQLite's one writer lock that accepting a message waits for) into a few large ones.
    private static readonly TimeSpan CoalesceWait = TimeSpan.FromMilliseconds(100);

    private readonly Channel<(int InstanceId, MessageStatusEvent Receipt)> _queue =
        Channel.CreateUnbounded<(int, MessageStatusEvent)>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(int instanceId, MessageStatusEvent receipt) => _queue.Writer.TryWrite((instanceId, receipt));

    public static MessageStatus? StatusFor(MessageAck ack) => ack switch
    {
        MessageAck.Server => MessageStatus.Sent,
        MessageAck.Device => MessageStatus.Delivered,
        MessageAck.Read => MessageStatus.Read,
        MessageAck.Played => MessageStatus.Played,
        MessageAck.Error => MessageStatus.Failed,
        _ => null,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(int InstanceId, MessageStatusEvent Receipt)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).AsTask().ContinueWith(t => !t.IsCanceled && t.Result))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                batch.Add(item);
            try
            {
                await ApplyAsync(batch);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Applying {Count} receipts failed", batch.Count);
            }
            if (batch.Count < MaxBatch)
                await Task.Delay(CoalesceWait, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Applies receipts now; exposed for tests.</summary>
    public async Task ApplyAsync(IReadOnlyList<(int InstanceId, MessageStatusEvent Receipt)> receipts)
    {
        // PostgreSQL may give up the batch in a deadlock with the outbox's updates of the same rows: applied again, it
        // finds them as the outbox left them (statuses only move forward, so what was applied before is not redone).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ApplyStatusesAsync(receipts);
                break;
            }
            catch (Exception e) when (attempt < MaxAttempts && DatabaseErrors.IsRetryableConflict(e))
            {
                logger.LogInformation("Applying {Count} receipts met a conflicting write; trying again", receipts.Count);
            }
        }
        var applied = receipts.Select(r => (r.InstanceId, r.Receipt.MessageId)).Distinct().ToList();
        foreach (var listener in listeners)
            await listener.OnAppliedAsync(applied, CancellationToken.None);
    }

    private const int MaxAttempts = 3;

    private async Task ApplyStatusesAsync(IReadOnlyList<(int InstanceId, MessageStatusEvent Receipt)> receipts)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        // Counting what moved needs the rows as they were, read in the transaction that moves them (see MovingAsync).
        var counting = metrics.CountsOutcomes;
        await using var tx = counting ? await db.Database.BeginTransactionAsync() : null;
        var moved = counting ? new List<(int InstanceId, List<StatusMove> Moves)>() : null;
        // Failures are grouped by their reason too: each message keeps the error it failed with.
        foreach (var group in receipts.GroupBy(r => (r.InstanceId, Status: StatusFor(r.Receipt.Ack),
                     Failure: r.Receipt.Ack == MessageAck.Error ? (r.Receipt.Error, r.Receipt.ErrorCode) : default)).Where(g => g.Key.Status is not null))
        {
            var instanceId = group.Key.InstanceId;
            var status = group.Key.Status!.Value;
            var errorCode = group.Key.Failure.ErrorCode ?? WhatsAppError;
            var ids = group.Select(r => r.Receipt.MessageId).Distinct().ToList();
            var at = group.Max(r => r.Receipt.At);
            var earlier = new[] { MessageStatus.Queued, MessageStatus.Sending, MessageStatus.Sent, MessageStatus.Delivered, MessageStatus.Read }
                .Where(s => status == MessageStatus.Failed || s < status).ToList();
            var ack = (int)group.First().Receipt.Ack;
            var query = db.Messages.Where(m => m.InstanceId == instanceId && ids.Contains(m.WaMessageId)
                && m.Direction == Message.Outbound && earlier.Contains(m.Status));
            if (moved is not null)
                moved.Add((instanceId, await MovingAsync(db, query, status, at, errorCode)));
            await (status switch
            {
                MessageStatus.Sent => query.ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, status).SetProperty(m => m.Ack, ack)
                    .SetProperty(m => m.SentAt, m => m.SentAt ?? at)),
                MessageStatus.Delivered => query.ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, status).SetProperty(m => m.Ack, ack)
                    .SetProperty(m => m.SentAt, m => m.SentAt ?? at).SetProperty(m => m.DeliveredAt, at)),
                MessageStatus.Failed => query.ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, status).SetProperty(m => m.Ack, ack)
                    .SetProperty(m => m.Error, group.Key.Failure.Error ?? "WhatsApp reported an error").SetProperty(m => m.ErrorCode, errorCode)),
                // A read receipt may overtake the outbox's own "sent" update: the row then never passes through sent.
                _ => query.ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, status).SetProperty(m => m.Ack, ack)
                    .SetProperty(m => m.SentAt, m => m.SentAt ?? at)
                    .SetProperty(m => m.DeliveredAt, m => m.DeliveredAt ?? at).SetProperty(m => m.ReadAt, at)),
            });
        }
        if (tx is not null)
        {
            await tx.CommitAsync();
            foreach (var (instanceId, moves) in moved!)
                await metrics.RecordMovesAsync(instanceId, moves);
        }
    }

    /// <summary>
    /// The rows <paramref name="query"/> is about to move to <paramref name="status"/>, as they are before. On PostgreSQL
    /// they are locked first (a write that changes nothing), so the outbox cannot move one between this read and the
    /// update and have it counted twice; on SQLite the transaction already holds the one writer lock.
    /// </summary>
    private static async Task<List<StatusMove>> MovingAsync(WapBridgeDbContext db, IQueryable<Message> query, MessageStatus status, DateTimeOffset at, string errorCode)
    {
        if (!db.Database.IsSqlite())
            await query.ExecuteUpdateAsync(s => s.SetProperty(m => m.Ack, m => m.Ack));
        var rows = await query.AsNoTracking().Select(m => new { m.Type, m.Status, m.CreatedAt, m.SentAt }).ToListAsync();
        var reason = status == MessageStatus.Failed ? errorCode : null;
        return rows.ConvertAll(r => new StatusMove(r.Type, r.Status, status, r.CreatedAt, r.SentAt, at, reason));
    }

    private const string WhatsAppError = "whatsapp_error";
}
