using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// What campaigns learn from the engine: a logged-out or restricted instance pauses its campaigns with that reason,
/// and an inbound opt-out keyword suppresses the sender. Receipts reach recipients through <see cref="CampaignRecipientSync"/>.
/// </summary>
public sealed class CampaignEventObserver(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<CampaignEventObserver> logger) : IInstanceEventObserver
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
}
