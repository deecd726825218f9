using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// The one way deliveries are created: added to the caller's unit of work, so an event and the fact behind it are
/// committed together, and the dispatcher woken once they are. Other features call <see cref="SaveAsync"/>; a batch
/// committed by its owner (inbound messages) goes through <see cref="InboundMessageWebhooks"/>.
/// </summary>
public sealed class WebhookOutbox(WebhookSignal signal, IMemoryCache cache, IDbContextFactory<WapBridgeDbContext> dbFactory, TimeProvider time)
{
    // Every receipt asks "does anyone want this event?": the answer is cached briefly per customer and
    // dropped at once when this node changes the settings.
    private static readonly TimeSpan EndpointCacheLifetime = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Saves the caller's pending changes in <paramref name="db"/> with a delivery of <paramref name="eventType"/> when the
    /// customer (or the instance's override) subscribes to it, then wakes the dispatcher; true if a delivery was added.
    /// Its attempts continue <paramref name="traceParent"/>, the trace of what caused it (default: the current one).
    /// </summary>
    public async Task<bool> SaveAsync(WapBridgeDbContext db, int customerId, int? instanceId, string eventType, Func<string> payload, CancellationToken ct,
        string? traceParent = null)
    {
        var added = await AddAsync(db, customerId, instanceId, eventType, payload, ct, traceParent: traceParent);
        await db.SaveChangesAsync(ct);
        if (added)
            Committed();
        return added;
    }

    /// <summary>Adds a delivery without saving (the caller saves, then calls <see cref="Committed"/>); true if one was added.</summary>
    internal async Task<bool> AddAsync(WapBridgeDbContext db, int customerId, int? instanceId, string eventType, Func<string> payload, CancellationToken ct,
        string? traceParent = null)
    {
        var endpoint = await ResolveEndpointAsync(customerId, instanceId, ct);
        if (endpoint is null || !endpoint.Enabled || (eventType != WebhookEvents.Test && !endpoint.EventList.Contains(eventType)))
            return false;
        var now = time.GetUtcNow();
        db.WebhookDeliveries.Add(new WebhookDelivery
        {
            CustomerId = customerId,
            EndpointId = endpoint.Id,
            InstanceId = instanceId,
            EventId = "evt_" + Guid.NewGuid().ToString("N"),
            EventType = eventType,
            Payload = payload(),
            CreatedAt = now,
            NextAttemptAt = now,
            TraceParent = traceParent ?? WapBridgeTelemetry.CurrentTraceParent(),
        });
        return true;
    }

    /// <summary>Call after SaveChanges: the new deliveries are durable, the dispatcher may take them.</summary>
    internal void Committed() => signal.Wake();

    /// <summary>The instance's override when it has one, else the customer's endpoint.</summary>
    public async Task<WebhookEndpoint?> ResolveEndpointAsync(int customerId, int? instanceId, CancellationToken ct)
    {
        var endpoints = await cache.GetOrCreateAsync(CacheKey(customerId), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = EndpointCacheLifetime;
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            return await db.WebhookEndpoints.AsNoTracking().Where(e => e.CustomerId == customerId).ToListAsync(ct);
        }) ?? [];
        var live = endpoints.Where(e => !e.IsRemoved).ToList();
        return live.FirstOrDefault(e => e.InstanceId is not null && e.InstanceId == instanceId) ?? live.FirstOrDefault(e => e.InstanceId is null);
    }

    /// <summary>Forget the cached endpoints of a customer after they changed.</summary>
    public void Invalidate(int customerId) => cache.Remove(CacheKey(customerId));

    private static string CacheKey(int customerId) => "webhook-endpoints:" + customerId;
}

/// <summary>Wakes the dispatcher when deliveries are committed, instead of waiting for its next poll.</summary>
public sealed class WebhookSignal : AsyncSignal;
