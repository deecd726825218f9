using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Health;

/// <summary>
/// The owner's explicit override of automatic protection (contract §12): for a while, new contacts go out past the day's
/// budget (still counted) and a fall to <c>danger</c> no longer pauses the instance's campaigns. It risks the number, so
/// it is bounded, logged and kept in the instance's state history.
/// </summary>
public sealed class ProtectionOverride(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceService instances,
    IGrainFactory grains,
    TimeProvider time,
    ILogger<ProtectionOverride> logger)
{
    public const int DefaultHours = 24;
    public const int MaxHours = 72;

    /// <summary>Lifts protection for <paramref name="hours"/> (1 to <see cref="MaxHours"/>, <see cref="DefaultHours"/> when null) from now.</summary>
    /// <param name="actor">Who decided (a user or an API key label, never a secret), for the log and the history.</param>
    /// <returns>The instance's code and when the override ends.</returns>
    public async Task<(string InstanceCode, DateTimeOffset Until)> OverrideAsync(int customerId, string? instanceCode, int? hours, string actor, CancellationToken ct = default)
    {
        var span = hours ?? DefaultHours;
        if (span is < 1 or > MaxHours)
            throw WapBridgeException.Invalid("hours", "out_of_range", $"hours must be a whole number from 1 to {MaxHours} (default {DefaultHours})");
        var instance = await instances.FindAsync(customerId, instanceCode, ct);
        var now = time.GetUtcNow();
        // Whole seconds: the answer then equals what the database keeps (it drops sub-millisecond ticks).
        var until = now.AddHours(span);
        until = until.AddTicks(-(until.UtcTicks % TimeSpan.TicksPerSecond));
        int released;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.Instances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.ProtectionOverrideUntil, until), ct);
            // Sends waiting for tomorrow's budget may go now: the outbox claims them again, under the override.
            released = await db.Messages
                .Where(m => m.InstanceId == instance.Id && m.Status == MessageStatus.Queued && m.HoldReason == SendFailurePolicy.NewContactBudget)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(m => m.HoldReason, (string?)null)
                    .SetProperty(m => m.NextSendAt, (DateTimeOffset?)null), ct);
            var reason = InstanceStateStore.Clip($"protection overridden for {span} h (until {until:yyyy-MM-dd HH:mm} UTC) by {actor}: new-contact budget and pausing campaigns at danger lifted");
            db.InstanceStateChanges.Add(new InstanceStateChange { InstanceId = instance.Id, State = instance.State, Reason = reason, At = now });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        logger.LogWarning("Protection of instance {Instance} (customer {CustomerId}) overridden by {Actor} for {Hours} h, until {Until}; {Released} sends held for the budget released",
            instance.Code, customerId, actor, span, until, released);
        var grain = grains.GetGrain<IInstanceGrain>(instance.Code);
        await grain.ReloadAsync();
        await grain.WakeOutboxAsync();
        return (instance.Code, until);
    }
}
