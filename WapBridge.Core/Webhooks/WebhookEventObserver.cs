using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

/// <summary>The opt-in events: <c>instance.status</c>, <c>message.ack</c> and <c>message.sent</c>.</summary>
public sealed class WebhookEventObserver(IDbContextFactory<WapBridgeDbContext> dbFactory, WebhookOutbox outbox) : IInstanceEventObserver
{
    public async Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
    {
        switch (engineEvent)
        {
            case ConnectedEvent or DisconnectedEvent or LoggedOutEvent or PairingExpiredEvent:
                var reason = engineEvent switch
                {
                    DisconnectedEvent d => d.Reason,
                    LoggedOutEvent l => l.Reason,
                    PairingExpiredEvent p => p.Reason,
                    _ => null,
                };
                await AddAsync(instance, WebhookEvents.InstanceStatus, engineEvent.At,
                    new JsonObject { ["status"] = instance.State.ToWire(), ["phone_number"] = instance.PhoneNumber, ["reason"] = reason }, ct);
                break;
            case AccountRestrictedEvent restricted:
                await AddAsync(instance, WebhookEvents.InstanceStatus, restricted.At, new JsonObject
                {
                    ["status"] = instance.State.ToWire(),
                    ["phone_number"] = instance.PhoneNumber,
                    ["reason"] = SendFailurePolicy.AccountRestricted,
                    ["restriction"] = new JsonObject { ["until"] = restricted.Until, ["detail"] = restricted.Detail },
                }, ct);
                break;
            case MessageStatusEvent receipt:
                // Receipts are the busiest events: the cached endpoint answers whether anyone subscribes before a
                // context is opened to look up the message.
                var endpoint = await outbox.ResolveEndpointAsync(instance.CustomerId, instance.Id, ct);
                if (endpoint is not { Enabled: true } || !endpoint.EventList.Any(e => e is WebhookEvents.MessageAck or WebhookEvents.MessageSent))
                    return;
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                {
                    var message = await db.Messages.AsNoTracking()
                        .Where(m => m.InstanceId == instance.Id && m.WaMessageId == receipt.MessageId && m.Direction == Message.Outbound)
                        .Select(m => new { m.SerializedId, m.ToNumber, m.Source, m.Type })
                        .FirstOrDefaultAsync(ct);
                    if (message is null)
                        return;
                    await AddAsync(instance, WebhookEvents.MessageAck, receipt.At,
                        new JsonObject { ["id"] = message.SerializedId, ["ack"] = (int)receipt.Ack, ["status"] = MessageReceipts.StatusFor(receipt.Ack)?.ToWire() }, ct);
                    if (receipt.Ack == MessageAck.Server)
                        await AddAsync(instance, WebhookEvents.MessageSent, receipt.At,
                            new JsonObject { ["id"] = message.SerializedId, ["to"] = message.ToNumber, ["type"] = message.Type, ["source"] = message.Source }, ct);
                }
                break;
        }
    }

    private async Task AddAsync(Instance instance, string eventType, DateTimeOffset at, JsonObject data, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var customer = await db.Customers.Where(c => c.Id == instance.CustomerId).Select(c => c.Code).SingleAsync(ct);
        await outbox.SaveAsync(db, instance.CustomerId, instance.Id, eventType, () => WebhookPayloads.Event(eventType, instance.Code, customer, at, data), ct);
    }
}
