using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// What campaigns learn from the engine: receipts move recipients to delivered/read, a logged-out
/// instance pauses its campaigns with that reason, and an inbound opt-out keyword suppresses the sender.
/// </summary>
public sealed class CampaignEventObserver(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<CampaignEventObserver> logger) : IInstanceEventObserver, IReceiptListener
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        switch (engineEvent)
        {
            case LoggedOutEvent loggedOut:
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                {
                    var paused = await db.Campaigns.Where(c => c.InstanceId == instance.Id && (c.State == CampaignState.Running || c.State == CampaignState.Scheduled))
                        .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Paused)
                            .SetProperty(c => c.PausedReason, $"instance logged out ({loggedOut.Reason}): pair it again, then resume")
                            .SetProperty(c => c.NextSendAt, (DateTimeOffset?)null), ct);
                    if (paused > 0)
                        logger.LogWarning("Paused {Count} campaigns of instance {Instance}: it logged out", paused, instance.Code);
                }
                break;
            case AccountRestrictedEvent restricted:
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                {
                    // Campaigns reach new contacts: each send would be refused and deepen the restriction.
                    var paused = await db.Campaigns.Where(c => c.InstanceId == instance.Id && c.State == CampaignState.Running)
                        .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Paused)
                            .SetProperty(c => c.PausedReason, $"{SendFailurePolicy.AccountRestricted}: WhatsApp restricts this number from messaging new contacts until {restricted.Until:u}; resume after that")
                            .SetProperty(c => c.NextSendAt, (DateTimeOffset?)null), ct);
                    if (paused > 0)
                        logger.LogWarning("Paused {Count} campaigns of instance {Instance}: WhatsApp restricted it until {Until}", paused, instance.Code, restricted.Until);
                }
                break;
            case MessageReceivedEvent { Message: { FromPhone: { } from, GroupId: null, Body: { } body } }
                when options.Value.EffectiveOptOutKeywords.Any(k => string.Equals(k, body.Trim().TrimEnd('.', '!'), StringComparison.OrdinalIgnoreCase)):
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                {
                    if (!await db.Suppressions.AnyAsync(s => s.CustomerId == instance.CustomerId && s.Number == from, ct))
                    {
                        db.Suppressions.Add(new Suppression { CustomerId = instance.CustomerId, Number = from, Reason = $"replied {body.Trim()}", CreatedAt = time.GetUtcNow() });
                        try
                        {
                            await db.SaveChangesAsync(ct);
                            logger.LogInformation("{Number} opted out of customer {CustomerId}'s campaigns", from, instance.CustomerId);
                        }
                        catch (DbUpdateException)
                        {
                            // Two STOPs at once: the other one recorded it.
                        }
                    }
                }
                break;
        }
    }

    public async Task OnAppliedAsync(IReadOnlyList<(int InstanceId, string WaMessageId)> receipts, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var group in receipts.GroupBy(r => r.InstanceId))
        {
            var ids = group.Select(r => r.WaMessageId).ToList();
            var messages = await db.Messages.AsNoTracking()
                .Where(m => m.InstanceId == group.Key && ids.Contains(m.WaMessageId) && m.CampaignId != null)
                .Select(m => new { m.Id, m.Status, m.Error, m.ErrorCode }).ToListAsync(ct);
            if (messages.Count == 0)
                continue;
            var messageIds = messages.Select(m => m.Id).ToList();
            var recipients = await db.CampaignRecipients.AsNoTracking().Where(r => r.MessageId != null && messageIds.Contains(r.MessageId.Value)).ToListAsync(ct);
            var byId = messages.ToDictionary(m => m.Id);
            var moves = new List<RecipientMove>(recipients.Count);
            foreach (var recipient in recipients)
            {
                var message = byId[recipient.MessageId!.Value];
                if (CampaignProgress.RecipientStateFor(message.Status) is { } target)
                    moves.Add(new RecipientMove(recipient, target, target == RecipientState.Failed ? CampaignProgress.FailureReason(message.ErrorCode, message.Error) : null));
            }
            await CampaignProgress.AdvanceManyAsync(db, moves, time.GetUtcNow(), ct);
        }
    }
}
