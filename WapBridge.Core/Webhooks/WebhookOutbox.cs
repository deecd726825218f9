using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// Adds deliveries to the caller's unit of work, so an event and the fact behind it are committed together,
/// then wakes the dispatcher once the caller has saved.
/// </summary>
public sealed class WebhookOutbox(WebhookSignal signal, TimeProvider time)
{
    /// <summary>Adds a delivery when the customer (or the instance's override) subscribes to <paramref name="eventType"/>; true if one was added.</summary>
    public async Task<bool> AddAsync(WapBridgeDbContext db, int customerId, int? instanceId, string eventType, Func<string> payload, CancellationToken ct)
    {
        var endpoint = await ResolveEndpointAsync(db, customerId, instanceId, ct);
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
        });
        return true;
    }

    /// <summary>Call after SaveChanges: the new deliveries are durable, the dispatcher may take them.</summary>
    public void Committed() => signal.Wake();

    /// <summary>The instance's override when it has one, else the customer's endpoint.</summary>
    public static async Task<WebhookEndpoint?> ResolveEndpointAsync(WapBridgeDbContext db, int customerId, int? instanceId, CancellationToken ct)
    {
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.CustomerId == customerId && (e.InstanceId == null || e.InstanceId == instanceId))
            .ToListAsync(ct);
        endpoints.RemoveAll(e => e.IsRemoved);
        return endpoints.FirstOrDefault(e => e.InstanceId is not null) ?? endpoints.FirstOrDefault(e => e.InstanceId is null);
    }
}

/// <summary>Wakes the dispatcher when deliveries are committed, instead of waiting for its next poll.</summary>
public sealed class WebhookSignal : AsyncSignal;
