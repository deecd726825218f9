using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>
/// What WhatsApp and the number's contacts said about one instance lately (contract §12): the facts
/// <see cref="HealthScore.Evaluate"/> judges, read over <see cref="HealthOptions.SignalWindow"/>.
/// </summary>
/// <param name="Window">How far back the counts go.</param>
/// <param name="RestrictedUntil">WhatsApp's reach-out timelock (463) in force now.</param>
/// <param name="BannedUntil">A temporary ban (402) in force now.</param>
/// <param name="LockedOut">WhatsApp logged the number out with 403 (account locked) and it was not paired again since.</param>
/// <param name="BannedOut">WhatsApp logged the number out with 406 (account banned) and it was not paired again since.</param>
/// <param name="RecentlyRestricted">A restriction or ban that is over now happened within the window.</param>
/// <param name="Sends">Outbound messages WhatsApp answered in the window (sent, or refused by WhatsApp).</param>
/// <param name="FailedSends">Of <paramref name="Sends"/>, those WhatsApp refused for other reasons than the two below.</param>
/// <param name="NotOnWhatsApp">Of <paramref name="Sends"/>, those to numbers that are not on WhatsApp.</param>
/// <param name="Blocked">Of <paramref name="Sends"/>, those refused because the recipient blocked the number.</param>
/// <param name="FirstMessages">New contacts messaged first in the window, long enough ago to have answered.</param>
/// <param name="Replied">Of <paramref name="FirstMessages"/>, those who wrote back.</param>
/// <param name="ContactsMessaged">Distinct numbers of <paramref name="Sends"/> (direct chats).</param>
/// <param name="OptOuts">Of <paramref name="ContactsMessaged"/>, those who opted out (STOP) in the window.</param>
public sealed record HealthSignals(
    TimeSpan Window,
    DateTimeOffset? RestrictedUntil = null,
    DateTimeOffset? BannedUntil = null,
    bool LockedOut = false,
    bool BannedOut = false,
    bool RecentlyRestricted = false,
    int Sends = 0,
    int FailedSends = 0,
    int NotOnWhatsApp = 0,
    int Blocked = 0,
    int FirstMessages = 0,
    int Replied = 0,
    int ContactsMessaged = 0,
    int OptOuts = 0)
{
    /// <summary>When the restriction or ban in force now ends (the later of the two); null when none is.</summary>
    public DateTimeOffset? RestrictionEnds => RestrictedUntil > BannedUntil || BannedUntil is null ? RestrictedUntil : BannedUntil;
}

/// <summary>Reads <see cref="HealthSignals"/> of one instance from the database.</summary>
public sealed class HealthSignalReader(IDbContextFactory<WapBridgeDbContext> dbFactory, IOptions<HealthOptions> options, TimeProvider time)
{
    /// <summary>How long a first message is given to be answered before an unanswered one counts against the reply rate.</summary>
    public static readonly TimeSpan ReplyWait = TimeSpan.FromHours(6);

    /// <summary>The error code of a send to a number that is not on WhatsApp (every engine, and the outbox's own check).</summary>
    public const string NotOnWhatsAppCode = "not_on_whatsapp";

    // Failures WapBridge itself decided (expiry, holds, cancels, a look-up that could not be made): WhatsApp never saw
    // these sends, so they say nothing about how WhatsApp or the recipients treat the number.
    private static readonly string[] LocalFailures =
    [
        "expired", SendFailurePolicy.AccountRestricted, SendFailurePolicy.NewContactBudget, SendFailurePolicy.NumberCheckFailed,
        Campaigns.CampaignService.CancelledErrorCode, "not_connected",
    ];

    public async Task<HealthSignals> ReadAsync(int instanceId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var instance = await db.Instances.AsNoTracking().SingleAsync(i => i.Id == instanceId, ct);
        return await ReadAsync(db, instance, ct);
    }

    internal async Task<HealthSignals> ReadAsync(WapBridgeDbContext db, Instance instance, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var window = options.Value.SignalWindow;
        var since = now - window;
        var id = instance.Id;

        var loggedOut = instance.State == InstanceState.LoggedOut ? instance.LastError : null;
        var recentlyRestricted = instance.RestrictedUntil is { } restrictedUntil && restrictedUntil <= now && restrictedUntil > since
            || await db.InstanceStateChanges.AnyAsync(c => c.InstanceId == id && c.At >= since && c.Reason != null
                && (c.Reason.StartsWith(CloseCodePolicy.Banned) || c.Reason.StartsWith(CloseCodePolicy.AccountLocked)
                    || c.Reason.StartsWith(CloseCodePolicy.AccountEnded) || c.Reason.StartsWith(InstanceService.RestrictionLiftedEarly)), ct);

        var outbound = db.Messages.Where(m => m.InstanceId == id && m.Direction == Message.Outbound && m.CreatedAt >= since);
        var answered = outbound.Where(m => m.Status != MessageStatus.Queued && m.Status != MessageStatus.Sending
            && !(m.Status == MessageStatus.Failed && (m.ErrorCode == null || LocalFailures.Contains(m.ErrorCode))));
        var byOutcome = await answered
            .GroupBy(m => m.Status == MessageStatus.Failed ? m.ErrorCode : null)
            .Select(g => new { ErrorCode = g.Key, Count = g.Count() })
            .ToListAsync(ct);
        int Count(Func<string?, bool> which) => byOutcome.Where(o => which(o.ErrorCode)).Sum(o => o.Count);
        var notOnWhatsApp = Count(c => c == NotOnWhatsAppCode);
        var blocked = Count(c => c == SendFailurePolicy.BlockedByRecipient);

        // A direct outbound message's chat is the recipient's number; groups (…@g.us) have no one to opt out or block.
        var recipients = answered.Where(m => m.ToNumber != null && m.Chat == m.ToNumber).Select(m => m.ToNumber!).Distinct();
        var contactsMessaged = await recipients.CountAsync(ct);
        var optOuts = await db.Suppressions.CountAsync(s => s.CustomerId == instance.CustomerId && s.CreatedAt >= since && recipients.Contains(s.Number), ct);

        var answeredBy = now - ReplyWait;
        var firsts = db.KnownContacts.Where(k => k.InstanceId == id && k.Source == KnownContactSources.Messaged && k.FirstSeenAt >= since && k.FirstSeenAt <= answeredBy);
        var firstMessages = await firsts.CountAsync(ct);
        var replied = firstMessages == 0 ? 0 : await firsts.CountAsync(k => db.Messages.Any(m => m.InstanceId == id && m.Direction == Message.Inbound
            && m.Chat == m.FromNumber && m.CreatedAt > k.FirstSeenAt
            && (m.FromNumber == k.Number || (k.Lid != null && m.FromNumber == k.Lid)
                || db.LidMappings.Any(l => l.InstanceId == id && l.PhoneNumber == k.Number && l.Lid == m.FromNumber))), ct);

        return new HealthSignals(
            window,
            RestrictedUntil: instance.RestrictedUntil > now ? instance.RestrictedUntil : null,
            BannedUntil: instance.BannedUntil > now ? instance.BannedUntil : null,
            LockedOut: loggedOut?.StartsWith(CloseCodePolicy.AccountLocked, StringComparison.Ordinal) == true,
            BannedOut: loggedOut?.StartsWith(CloseCodePolicy.AccountEnded, StringComparison.Ordinal) == true,
            RecentlyRestricted: recentlyRestricted,
            Sends: byOutcome.Sum(o => o.Count),
            FailedSends: Count(c => c is not null && c != NotOnWhatsAppCode && c != SendFailurePolicy.BlockedByRecipient),
            NotOnWhatsApp: notOnWhatsApp,
            Blocked: blocked,
            FirstMessages: firstMessages,
            Replied: replied,
            ContactsMessaged: contactsMessaged,
            OptOuts: optOuts);
    }
}
