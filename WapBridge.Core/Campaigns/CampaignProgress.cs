using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Moves a recipient forward to match its message, and the campaign's counters with it, in one
/// transaction. Idempotent: a transition is applied only by the call that finds the old state.
/// </summary>
public static class CampaignProgress
{
    private static int Rank(string state) => state switch
    {
        RecipientStates.Pending => 0,
        RecipientStates.Sending => 1,
        RecipientStates.Sent => 2,
        RecipientStates.Delivered => 3,
        RecipientStates.Read => 4,
        _ => -1,
    };

    /// <summary>A failed recipient's reason: the message's error code first (<c>not_on_whatsapp</c>, <c>463</c>, …), then its text.</summary>
    public static string? FailureReason(string? errorCode, string? error)
    {
        var reason = errorCode is null ? error : error is null ? errorCode : $"{errorCode}: {error}";
        return reason is { Length: > 300 } ? reason[..300] : reason; // the recipient's column holds 300
    }

    public static string? RecipientStateFor(string messageStatus) => messageStatus switch
    {
        MessageStatuses.Sent => RecipientStates.Sent,
        MessageStatuses.Delivered => RecipientStates.Delivered,
        MessageStatuses.Read or MessageStatuses.Played => RecipientStates.Read,
        MessageStatuses.Failed => RecipientStates.Failed,
        _ => null,
    };

    /// <summary>Applies <paramref name="target"/> to the recipient when it is a step forward; answers whether it was.</summary>
    public static async Task<bool> AdvanceAsync(WapBridgeDbContext db, CampaignRecipient recipient, string target, string? error, DateTimeOffset now, CancellationToken ct)
    {
        // Runner and receipts may race for the same recipient: the loser re-reads and tries from the new state.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await TryAdvanceAsync(db, recipient, target, error, now, ct))
                return true;
            var current = await db.CampaignRecipients.AsNoTracking().Where(r => r.Id == recipient.Id).Select(r => r.State).SingleOrDefaultAsync(ct);
            if (current is null || current == recipient.State)
                return false;
            recipient.State = current;
        }
        return false;
    }

    /// <summary>
    /// Applies many moves with one UPDATE per kind of move (same campaign, from, target and error) and one counter
    /// update each, instead of a transaction per recipient. A group that a concurrent writer (receipts racing the
    /// runner) moved in part is rolled back and redone row by row, so counters always match the rows.
    /// </summary>
    public static async Task AdvanceManyAsync(WapBridgeDbContext db, IReadOnlyList<RecipientMove> moves, DateTimeOffset now, CancellationToken ct)
    {
        var redo = new List<RecipientMove>();
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
                if (moved != ids.Count && own is not null)
                {
                    await own.RollbackAsync(ct);
                    redo.AddRange(group);
                    continue;
                }
                await ApplyCountersAsync(db, campaignId, Counters.For(from, target).Times(moved), ct);
                if (own is not null)
                    await own.CommitAsync(ct);
                Told(db, campaignId);
                foreach (var m in group)
                    m.Recipient.State = target;
            }
            finally
            {
                if (own is not null)
                    await own.DisposeAsync();
            }
        }
        foreach (var m in redo)
            await AdvanceAsync(db, m.Recipient, m.Target, m.Error, now, ct);
    }

    private static bool IsForward(string from, string target) =>
        target == RecipientStates.Failed || target == RecipientStates.Skipped
            ? from is RecipientStates.Pending or RecipientStates.Sending
            : Rank(target) > Rank(from) && Rank(from) >= 0;

    private static async Task<bool> TryAdvanceAsync(WapBridgeDbContext db, CampaignRecipient recipient, string target, string? error, DateTimeOffset now, CancellationToken ct)
    {
        var from = recipient.State;
        if (!IsForward(from, target))
            return false;

        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            var moved = await db.CampaignRecipients.Where(r => r.Id == recipient.Id && r.State == from).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, target)
                .SetProperty(r => r.Error, r => error ?? r.Error)
                .SetProperty(r => r.UpdatedAt, now), ct);
            if (moved == 0)
                return false;
            await ApplyCountersAsync(db, recipient.CampaignId, Counters.For(from, target), ct);
            if (own is not null)
                await own.CommitAsync(ct);
            Told(db, recipient.CampaignId);
            recipient.State = target;
            return true;
        }
        finally
        {
            if (own is not null)
                await own.DisposeAsync();
        }
    }

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
        public static Counters For(string from, string target)
        {
            var pending = from is RecipientStates.Pending or RecipientStates.Sending && target is not RecipientStates.Sending ? -1 : 0;
            return target switch
            {
                RecipientStates.Failed => new Counters(pending, 0, 0, 0, 1, 0),
                RecipientStates.Skipped => new Counters(pending, 0, 0, 0, 0, 1),
                _ => new Counters(pending,
                    Rank(from) < 2 && Rank(target) >= 2 ? 1 : 0,
                    Rank(from) < 3 && Rank(target) >= 3 ? 1 : 0,
                    Rank(from) < 4 && Rank(target) >= 4 ? 1 : 0, 0, 0),
            };
        }

        public Counters Times(int n) => new(Pending * n, Sent * n, Delivered * n, Read * n, Failed * n, Skipped * n);
    }
}

/// <summary>A recipient to move to <paramref name="Target"/>, with the error to record when it fails.</summary>
public sealed record RecipientMove(CampaignRecipient Recipient, string Target, string? Error);
