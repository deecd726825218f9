using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Health;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// The opt-in <c>instance.health</c> event (contract §12): an instance's health level changed. Judged once per change
/// (by <see cref="HealthMonitor"/>), so each change is one delivery.
/// </summary>
public sealed class HealthWebhooks(IDbContextFactory<WapBridgeDbContext> dbFactory, WebhookOutbox outbox, TimeProvider time) : IHealthLevelObserver
{
    public async Task LevelChangedAsync(HealthLevelChange change, CancellationToken ct)
    {
        // The first judgement of an instance is news only when it is not good (a new or just upgraded instance is).
        if (change.PreviousLevel is null && change.Health.Level == HealthLevels.Good)
            return;
        if (await outbox.ResolveEndpointAsync(change.CustomerId, change.InstanceId, ct) is not { Enabled: true } endpoint
            || !endpoint.EventList.Contains(WebhookEvents.InstanceHealth))
            return;
        var health = change.Health;
        var data = new JsonObject
        {
            ["instance_id"] = change.InstanceCode,
            ["level"] = health.Level,
            ["score"] = health.Score,
            ["reasons"] = new JsonArray(health.Reasons.Select(r => (JsonNode)new JsonObject { ["code"] = r.Code, ["message"] = r.Message }).ToArray()),
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var customer = await db.Customers.Where(c => c.Id == change.CustomerId).Select(c => c.Code).SingleAsync(ct);
        var at = time.GetUtcNow();
        await outbox.SaveAsync(db, change.CustomerId, change.InstanceId, WebhookEvents.InstanceHealth,
            () => WebhookPayloads.Event(WebhookEvents.InstanceHealth, change.InstanceCode, customer, at, data), ct);
    }
}
