using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Health;
using WapBridge.Core.Live;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Automatic protection (contract §12): when an instance's health falls to <c>danger</c> or <c>restricted</c>, its
/// running and scheduled campaigns pause with the reason, since campaigns are what message strangers in bulk and push
/// a number from warning to ban. Resuming stays the owner's call (<c>resume_campaign</c>); while the owner overrides
/// protection (<c>override_protection</c>) nothing is paused.
/// </summary>
public sealed class CampaignHealthGuard(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    LiveNotices notices,
    TimeProvider time,
    ILogger<CampaignHealthGuard> logger) : IHealthLevelObserver
{
    /// <summary>The longest <c>paused_reason</c> the campaign row holds.</summary>
    private const int MaxReason = 300;

    public async Task LevelChangedAsync(HealthLevelChange change, CancellationToken ct)
    {
        if (change.Health.Level is not (HealthLevels.Danger or HealthLevels.Restricted))
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        // Read from the row, not the judged health: an override given since the judgement still counts.
        var overrideUntil = await db.Instances.Where(i => i.Id == change.InstanceId).Select(i => i.ProtectionOverrideUntil).SingleOrDefaultAsync(ct);
        if (overrideUntil > now)
        {
            logger.LogWarning("Instance {Instance} of customer {CustomerId} is at health {Level} (score {Score}); its campaigns keep running: the owner overrode protection until {Until}",
                change.InstanceCode, change.CustomerId, change.Health.Level, change.Health.Score, overrideUntil);
            return;
        }
        var reason = Reason(change.Health);
        var campaigns = await db.Campaigns.Where(c => c.InstanceId == change.InstanceId && (c.State == CampaignState.Running || c.State == CampaignState.Scheduled))
            .Select(c => new { c.Id, c.Code }).ToListAsync(ct);
        if (campaigns.Count == 0)
            return;
        var ids = campaigns.Select(c => c.Id).ToList();
        // The state is checked again in the update: a campaign that completed or was cancelled meanwhile stays so.
        var paused = await db.Campaigns.Where(c => ids.Contains(c.Id) && (c.State == CampaignState.Running || c.State == CampaignState.Scheduled))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Paused)
                .SetProperty(c => c.PausedReason, reason)
                .SetProperty(c => c.NextSendAt, (DateTimeOffset?)null), ct);
        foreach (var campaign in campaigns)
            notices.CampaignChanged(change.CustomerId, campaign.Code);
        logger.LogWarning("Paused {Count} campaigns ({Campaigns}) of instance {Instance}, customer {CustomerId}: account health is {Level} (score {Score}; {Reasons})",
            paused, string.Join(", ", campaigns.Select(c => c.Code)), change.InstanceCode, change.CustomerId, change.Health.Level, change.Health.Score,
            string.Join(", ", change.Health.Reasons.Select(r => r.Code)));
    }

    /// <summary>The campaign's <c>paused_reason</c>: the level, why, and when resuming makes sense.</summary>
    internal static string Reason(InstanceHealth health)
    {
        var why = health.Reasons.Count == 0 ? "" : ": " + string.Join("; ", health.Reasons.Select(r => r.Message.TrimEnd('.')));
        var resume = health.RestrictedUntil is { } until
            ? $"; resume after {until.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC, when WhatsApp's restriction ends"
            : "; resume when the instance's health is back to good or watch";
        var head = $"account health is {health.Level} (score {health.Score})";
        // The resume hint matters most: the reasons are shortened to make room for it.
        var room = MaxReason - head.Length - resume.Length;
        if (why.Length > room)
            why = room > 1 ? why[..(room - 1)] + "…" : "";
        return head + why + resume;
    }
}
