using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Moves a recipient forward to match its message, and the campaign's counters with it, in one
/// transaction. Idempotent: a transition is applied only by the call that finds the old state.
/// </summary>
public static class CampaignProgress
{
    /// <summary>A failed recipient's reason: the message's error code first (<c>not_on_whatsapp</c>, <c>463</c>, …), then its text.</summary>
    public static string? FailureReason(string? errorCode, string? error)
    {
        var reason = errorCode is null ? error : error is null ? errorCode : $"{errorCode}: {error}";
        return reason is { Length: > 300 } ? reason[..300] : reason; // the recipient's column holds 300
    }

    public static RecipientState? RecipientStateFor(MessageStatus messageStatus) => messageStatus switch
    {
        MessageStatus.Sent => RecipientState.Sent,
        MessageStatus.Delivered => RecipientState.Delivered,
        MessageStatus.Read or MessageStatus.Played => RecipientState.Read,
        MessageStatus.Failed => RecipientState.Failed,
        _ => null,
    };

    /// <summary>Applies <paramref name="target"/> to the recipient when it is a step forward; answers whether it was.</summary>
    public static async Task<bool> AdvanceAsync(WapBridgeDbContext db, CampaignRecipient recipient, RecipientState target, string? error, DateTimeOffset now, CancellationToken ct) =>
        (await AdvanceManyAsync(db, [new RecipientMove(recipient, target, error)], now, ct)).Total == 1;

    /// <summary>
    /// Applies many moves with one UPDATE per kind of move (same campaign, from, target and error) and one counter
    /// update each, instead of a transaction per recipient; answers how many recipients moved. A row is moved only from
    /// the state the move was computed from, and the counters change by the rows moved, so they always match the rows.
    /// A row another writer moved meanwhile keeps that writer's state: writers of one state never overlap (the runner
    /// settles pending recipients, a cancel cancels them, <see cref="CampaignRecipientSync"/> alone follows messages).
    /// </summary>
    public static async Task<RecipientMoves> AdvanceManyAsync(WapBridgeDbContext db, IReadOnlyList<RecipientMove> moves, DateTimeOffset now, CancellationToken ct)
    {
        var total = new RecipientMoves(0, 0, 0, 0);
        foreach (var group in moves.Where(m => IsForward(m.Recipient.State, m.Target))
                     .GroupBy(m => (m.Recipient.CampaignId, From: m.Recipient.State, m.Target, m.Error)))
        {
            var (campaignId, from, target, error) = group.Key;
            var ids = group.Select(m => m.Recipient.Id).ToList();
            var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
            try
            {
                var moved = await db.CampaignRecipients.Where(r => ids.Contains(r.Id) && r.State == from).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.State, target)
                    .SetProperty(r => r.Error, r => error ?? r.Error)
                    .SetProperty(r => r.UpdatedAt, now), ct);
                await ApplyCountersAsync(db, campaignId, Counters.For(from, target).Times(moved), ct);
                if (own is not null)
                    await own.CommitAsync(ct);
                Told(db, campaignId);
                total = total.Add(from, target, moved);
            }
            finally
            {
                if (own is not null)
                    await own.DisposeAsync();
            }
        }
        return total;
    }

    private static bool IsForward(RecipientState from, RecipientState target) =>
        target == RecipientState.Failed || target == RecipientState.Skipped
            ? from is RecipientState.Pending or RecipientState.Sending
            : target > from && target <= RecipientState.Read;

    /// <summary>
    /// Every move of a campaign passes here, whoever makes it (runner, receipts), so live views hear of it here. The
    /// callers hand over only their context: the node's <see cref="LiveNotices"/> come from the services that made it.
    /// </summary>
    private static void Told(WapBridgeDbContext db, long campaignId) =>
        db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider?.GetService<LiveNotices>()?.CampaignChanged(campaignId);

    private static async Task ApplyCountersAsync(WapBridgeDbContext db, long campaignId, Counters d, CancellationToken ct)
    {
        if (d == default)
            return;
        await db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Pending, c => c.Pending + d.Pending)
            .SetProperty(c => c.Sent, c => c.Sent + d.Sent)
            .SetProperty(c => c.Delivered, c => c.Delivered + d.Delivered)
            .SetProperty(c => c.Read, c => c.Read + d.Read)
            .SetProperty(c => c.Failed, c => c.Failed + d.Failed)
            .SetProperty(c => c.Skipped, c => c.Skipped + d.Skipped), ct);
    }

    /// <summary>How one move changes the campaign's counters.</summary>
    private readonly record struct Counters(int Pending, int Sent, int Delivered, int Read, int Failed, int Skipped)
    {
        public static Counters For(RecipientState from, RecipientState target)
        {
            var pending = from is RecipientState.Pending or RecipientState.Sending && target is not RecipientState.Sending ? -1 : 0;
            return target switch
            {
                RecipientState.Failed => new Counters(pending, 0, 0, 0, 1, 0),
                RecipientState.Skipped => new Counters(pending, 0, 0, 0, 0, 1),
                _ => new Counters(pending,
                    from < RecipientState.Sent && target >= RecipientState.Sent ? 1 : 0,
                    from < RecipientState.Delivered && target >= RecipientState.Delivered ? 1 : 0,
                    from < RecipientState.Read && target >= RecipientState.Read ? 1 : 0, 0, 0),
            };
        }

        public Counters Times(int n) => new(Pending * n, Sent * n, Delivered * n, Read * n, Failed * n, Skipped * n);
    }
}

/// <summary>
/// What moves did: how many recipients moved, and of those how many left the queue (pending or sending) sent, failed or
/// skipped — the campaign's sends (<c>wapbridge.campaigns.sends</c>).
/// </summary>
public readonly record struct RecipientMoves(int Total, int Sent, int Failed, int Skipped)
{
    public RecipientMoves Add(RecipientState from, RecipientState target, int moved)
    {
        var settled = from is RecipientState.Pending or RecipientState.Sending;
        return new RecipientMoves(Total + moved,
            Sent + (settled && target is (RecipientState.Sent or RecipientState.Delivered or RecipientState.Read) ? moved : 0),
            Failed + (target == RecipientState.Failed ? moved : 0),
            Skipped + (target == RecipientState.Skipped ? moved : 0));
    }

    /// <summary>Counts the sends, once their moves are committed.</summary>
    public async ValueTask RecordAsync(GatewayMetrics metrics, int instanceId)
    {
        await metrics.RecordCampaignSendsAsync(instanceId, GatewayMetrics.Sent, Sent);
        await metrics.RecordCampaignSendsAsync(instanceId, GatewayMetrics.Failed, Failed);
        await metrics.RecordCampaignSendsAsync(instanceId, "skipped", Skipped);
    }
}

/// <summary>A recipient to move to <paramref name="Target"/>, with the error to record when it fails.</summary>
public sealed record RecipientMove(CampaignRecipient Recipient, RecipientState Target, string? Error);
