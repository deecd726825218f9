using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Meta's 24-hour customer-service window per contact (contract §11), kept from the contact's own messages: free-form
/// messages reach the contact until <see cref="ServiceWindow.Length"/> after the last one, templates at any time.
/// </summary>
public sealed class ServiceWindowStore(IDbContextFactory<WapBridgeDbContext> dbFactory, TimeProvider time)
{
    /// <summary>
    /// The contact <paramref name="number"/> (digits) wrote to the instance at <paramref name="at"/>. Only moves the window
    /// forward: a late or redelivered older message never shortens it.
    /// </summary>
    public async Task RecordInboundAsync(int instanceId, string number, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await MoveForwardAsync(db, instanceId, number, at, ct) > 0
            || await db.ServiceWindows.AnyAsync(w => w.InstanceId == instanceId && w.Number == number, ct))
            return;
        db.ServiceWindows.Add(new ServiceWindow { InstanceId = instanceId, Number = number, LastInboundAt = at });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (!DatabaseErrors.IsMissingReference(e))
        {
            // Another writer stored the contact's window first (a redelivery handled elsewhere): move that one.
            db.ChangeTracker.Clear();
            await MoveForwardAsync(db, instanceId, number, at, ct);
        }
    }

    /// <summary>Until when free-form messages may go to <paramref name="number"/>; null when the window is closed (or never opened).</summary>
    public async Task<DateTimeOffset?> OpenUntilAsync(int instanceId, string number, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var last = await db.ServiceWindows.AsNoTracking().Where(w => w.InstanceId == instanceId && w.Number == number)
            .Select(w => (DateTimeOffset?)w.LastInboundAt).SingleOrDefaultAsync(ct);
        var until = last + ServiceWindow.Length;
        return until > time.GetUtcNow() ? until : null;
    }

    private static Task<int> MoveForwardAsync(WapBridgeDbContext db, int instanceId, string number, DateTimeOffset at, CancellationToken ct) =>
        db.ServiceWindows.Where(w => w.InstanceId == instanceId && w.Number == number && w.LastInboundAt < at)
            .ExecuteUpdateAsync(s => s.SetProperty(w => w.LastInboundAt, at), ct);
}

/// <summary>
/// Opens (extends) a contact's window when the contact writes to an instance whose engine has the window rule
/// (<see cref="EngineFeatures.ServiceWindow"/>). Only one-to-one messages from a phone number count: Cloud API has no
/// groups, and the window belongs to the number the rule checks.
/// </summary>
public sealed class ServiceWindowRecorder(ServiceWindowStore windows, EngineRegistry engines, TimeProvider time, ILogger<ServiceWindowRecorder> logger)
    : IInstanceEventObserver
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        if (engineEvent is not MessageReceivedEvent { Message: { GroupId: null, FromPhone: { Length: > 0 } from } message }
            || !engines.Supports(instance.Engine, EngineFeatures.ServiceWindow))
            return;
        // Meta counts the window from when the contact sent the message (a callback may arrive late), never from the future.
        var now = time.GetUtcNow();
        var at = message.Timestamp == default || message.Timestamp > now ? now : message.Timestamp;
        await windows.RecordInboundAsync(instance.Id, from, at, ct);
        logger.LogDebug("Service window of {Number} on {Instance} open until {Until}", from, instance.Code, at + ServiceWindow.Length);
    }
}
