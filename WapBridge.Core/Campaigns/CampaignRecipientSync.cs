using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// The one owner of "message status → recipient state". The outbox and receipts write only messages; this brings a
/// campaign's recipients up to their messages afterwards. Two callers: receipts, on the node hosting the instance (so a
/// late receipt still moves its recipient and the counters after the runner moved on or the campaign completed), and
/// the runner once its sends are out or when it finds one left "sending" (the outbox reports sends in memory, not as
/// receipts; a crash after a message's status was persisted is repaired there).
/// </summary>
/// <remarks>
/// Each campaign's sync is one transaction that takes the campaign row first, as the runner's claim and a cancel do:
/// syncs of one campaign queue behind each other on whichever nodes they run, and each reads the recipients and
/// statuses the one before it left. So a recipient moves once per step, forward only, to the furthest status its
/// message reached, and no sync ever finds its move taken by another and has to retry it.
/// </remarks>
public sealed class CampaignRecipientSync(IDbContextFactory<WapBridgeDbContext> dbFactory, GatewayMetrics metrics, TimeProvider time) : IReceiptListener
{
    /// <summary>Receipts changed these messages: their campaign recipients follow.</summary>
    public async Task OnAppliedAsync(IReadOnlyList<(int InstanceId, string WaMessageId)> receipts, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var byCampaign = new Dictionary<long, List<long>>();
        foreach (var group in receipts.GroupBy(r => r.InstanceId))
        {
            var ids = group.Select(r => r.WaMessageId).ToList();
            var messages = await db.Messages.AsNoTracking()
                .Where(m => m.InstanceId == group.Key && ids.Contains(m.WaMessageId) && m.CampaignId != null)
                .Select(m => new { m.Id, CampaignId = m.CampaignId!.Value }).ToListAsync(ct);
            foreach (var message in messages)
            {
                if (!byCampaign.TryGetValue(message.CampaignId, out var messageIds))
                    byCampaign[message.CampaignId] = messageIds = [];
                messageIds.Add(message.Id);
            }
        }
        foreach (var (campaignId, messageIds) in byCampaign.OrderBy(c => c.Key))
            await SyncAsync(db, campaignId, messageIds, ct);
    }

    /// <summary>Brings the campaign's recipients of these messages up to the messages' statuses.</summary>
    public async Task SyncAsync(long campaignId, IReadOnlyCollection<long> messageIds, CancellationToken ct)
    {
        if (messageIds.Count == 0)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await SyncAsync(db, campaignId, messageIds, ct);
    }

    private async Task SyncAsync(WapBridgeDbContext db, long campaignId, IReadOnlyCollection<long> messageIds, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A write first: it takes the campaign row's lock (SQLite's writer lock) before anything is read, so the reads
        // below see every sync that finished before this one.
        await db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, c => c.RunnerLeaseUntil), ct);
        var rows = await (from r in db.CampaignRecipients.AsNoTracking()
                          join m in db.Messages.AsNoTracking() on r.MessageId equals (long?)m.Id
                          where r.CampaignId == campaignId && messageIds.Contains(m.Id)
                          select new { Recipient = r, m.Status, m.Error, m.ErrorCode, m.InstanceId }).ToListAsync(ct);
        var moves = new List<RecipientMove>(rows.Count);
        foreach (var row in rows)
            if (CampaignProgress.RecipientStateFor(row.Status) is { } target)
                moves.Add(new RecipientMove(row.Recipient, target, target == RecipientState.Failed ? CampaignProgress.FailureReason(row.ErrorCode, row.Error) : null));
        var moved = await CampaignProgress.AdvanceManyAsync(db, moves, time.GetUtcNow(), ct);
        await tx.CommitAsync(ct);
        if (rows.Count > 0)
            await moved.RecordAsync(metrics, rows[0].InstanceId);
    }
}
