using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Contacts;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

/// <summary>The opt-in <c>contact.lid</c> event: a LID ↔ phone pair an instance learned, committed with the pair.</summary>
public sealed class LidMappingWebhooks(WebhookOutbox outbox, TimeProvider time) : ILidMappingObserver
{
    public async Task<bool> AddAsync(WapBridgeDbContext db, int instanceId, string lid, string phone, CancellationToken ct)
    {
        var owner = await (
            from i in db.Instances.AsNoTracking()
            join c in db.Customers on i.CustomerId equals c.Id
            where i.Id == instanceId
            select new { i.CustomerId, i.Code, Customer = c.Code }).SingleAsync(ct);
        var at = time.GetUtcNow();
        return await outbox.AddAsync(db, owner.CustomerId, instanceId, WebhookEvents.ContactLid, () => WebhookPayloads.Event(WebhookEvents.ContactLid,
            owner.Code, owner.Customer, at, new JsonObject { ["lid"] = lid + "@lid", ["number"] = phone }), ct);
    }

    public void Committed() => outbox.Committed();
}
