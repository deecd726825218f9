using Microsoft.EntityFrameworkCore;
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

    private static async Task<bool> TryAdvanceAsync(WapBridgeDbContext db, CampaignRecipient recipient, string target, string? error, DateTimeOffset now, CancellationToken ct)
    {
        var from = recipient.State;
        var forward = target == RecipientStates.Failed || target == RecipientStates.Skipped
            ? from is RecipientStates.Pending or RecipientStates.Sending
            : Rank(target) > Rank(from) && Rank(from) >= 0;
        if (!forward)
            return false;

        int pending = 0, sent = 0, delivered = 0, read = 0, failed = 0, skipped = 0;
        if (from is RecipientStates.Pending or RecipientStates.Sending && target is not RecipientStates.Sending)
            pending = -1;
        switch (target)
        {
            case RecipientStates.Failed: failed = 1; break;
            case RecipientStates.Skipped: skipped = 1; break;
            default:
                if (Rank(from) < 2 && Rank(target) >= 2) sent = 1;
                if (Rank(from) < 3 && Rank(target) >= 3) delivered = 1;
                if (Rank(from) < 4 && Rank(target) >= 4) read = 1;
                break;
        }

        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            var moved = await db.CampaignRecipients.Where(r => r.Id == recipient.Id && r.State == from).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, target)
                .SetProperty(r => r.Error, r => error ?? r.Error)
                .SetProperty(r => r.UpdatedAt, now), ct);
            if (moved == 0)
                return false;
            if (pending != 0 || sent != 0 || delivered != 0 || read != 0 || failed != 0 || skipped != 0)
                await db.Campaigns.Where(c => c.Id == recipient.CampaignId).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Pending, c => c.Pending + pending)
                    .SetProperty(c => c.Sent, c => c.Sent + sent)
                    .SetProperty(c => c.Delivered, c => c.Delivered + delivered)
                    .SetProperty(c => c.Read, c => c.Read + read)
                    .SetProperty(c => c.Failed, c => c.Failed + failed)
                    .SetProperty(c => c.Skipped, c => c.Skipped + skipped), ct);
            if (own is not null)
                await own.CommitAsync(ct);
            recipient.State = target;
            return true;
        }
        finally
        {
            if (own is not null)
                await own.DisposeAsync();
        }
    }
}
