using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Groups;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

/// <summary>
/// The opt-in events: <c>instance.status</c>, <c>message.ack</c>, <c>message.sent</c>, what contacts do to messages
/// (<c>message.reaction</c>, <c>message.edited</c>, <c>message.revoked</c>, <c>poll.vote</c>), <c>call</c>, <c>presence</c>
/// and what happens in groups (<c>group.participants</c>, <c>group.update</c>).
/// </summary>
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
                        .Select(m => new { m.SerializedId, m.ToNumber, m.Source, m.Type, m.TraceParent })
                        .FirstOrDefaultAsync(ct);
                    if (message is null)
                        return;
                    // A status change belongs to the message's trace: its webhook is the last step of the send it accepted.
                    await AddAsync(instance, WebhookEvents.MessageAck, receipt.At,
                        new JsonObject { ["id"] = message.SerializedId, ["ack"] = (int)receipt.Ack, ["status"] = MessageReceipts.StatusFor(receipt.Ack)?.ToWire() }, ct,
                        traceParent: message.TraceParent);
                    if (receipt.Ack == MessageAck.Server)
                        await AddAsync(instance, WebhookEvents.MessageSent, receipt.At,
                            new JsonObject { ["id"] = message.SerializedId, ["to"] = message.ToNumber, ["type"] = message.Type, ["source"] = message.Source }, ct,
                            traceParent: message.TraceParent);
                }
                break;
            case MessageUpdateEvent update:
                await AddUpdateAsync(instance, update, ct);
                break;
            case CallEvent call when CallStatus(call.Status) is { } status:
                await AddAsync(instance, WebhookEvents.Call, call.At, WithSender(new JsonObject
                {
                    ["id"] = call.CallId,
                    ["video"] = call.IsVideo,
                    ["group"] = call.IsGroup,
                    ["status"] = status,
                }, call.FromPhone, call.FromLid), ct);
                break;
            case PresenceEvent presence:
                await AddAsync(instance, WebhookEvents.Presence, presence.At, WithSender(new JsonObject
                {
                    ["chat"] = presence.Chat,
                    ["state"] = presence.State,
                    ["last_seen"] = presence.LastSeen?.ToUnixTimeSeconds(),
                }, presence.FromPhone, presence.FromLid), ct);
                break;
            case GroupParticipantsEvent participants:
                await AddGroupParticipantsAsync(instance, participants, ct);
                break;
            case GroupUpdateEvent update:
                await AddGroupUpdateAsync(instance, update, ct);
                break;
        }
    }

    /// <summary><c>group.participants</c>: who was added, removed, promoted or demoted (or left), with phone and LID where known.</summary>
    private async Task AddGroupParticipantsAsync(Instance instance, GroupParticipantsEvent e, CancellationToken ct)
    {
        if (!await SubscribedAsync(instance, WebhookEvents.GroupParticipants, ct))
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var byLid = NumberCheckCache.LidUser(e.ByLid);
        var map = await GroupCache.LidMapAsync(db, instance.Id, e.Participants.Append(new EngineGroupParticipant(e.ByPhone, byLid, null)), ct);
        var participants = new JsonArray(e.Participants.Select(map.Fill).Select(p => (JsonNode)new JsonObject
        {
            ["number"] = p.Phone,
            ["lid"] = p.Lid is null ? null : p.Lid + "@lid",
        }).ToArray());
        var data = WithActor(new JsonObject { ["group"] = e.GroupJid, ["action"] = e.Action, ["participants"] = participants },
            e.ByPhone ?? (byLid is null ? null : map.PhoneOf(byLid)), byLid ?? (e.ByPhone is null ? null : map.LidOf(e.ByPhone)));
        await SaveAsync(db, instance, WebhookEvents.GroupParticipants, e.At, data, ct);
    }

    /// <summary><c>group.update</c>: only the settings that changed (<c>subject</c>, <c>description</c>, <c>announce</c>, <c>restrict</c>).</summary>
    private async Task AddGroupUpdateAsync(Instance instance, GroupUpdateEvent e, CancellationToken ct)
    {
        if (!await SubscribedAsync(instance, WebhookEvents.GroupUpdate, ct))
            return;
        var changes = new JsonObject();
        if (e.Change.Subject is not null)
            changes["subject"] = e.Change.Subject;
        if (e.Change.Description is not null)
            changes["description"] = e.Change.Description;
        if (e.Change.Announce is { } announce)
            changes["announce"] = announce;
        if (e.Change.Restrict is { } restrict)
            changes["restrict"] = restrict;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var byLid = NumberCheckCache.LidUser(e.ByLid);
        var map = await GroupCache.LidMapAsync(db, instance.Id, [new EngineGroupParticipant(e.ByPhone, byLid, null)], ct);
        var data = WithActor(new JsonObject { ["group"] = e.GroupJid, ["changes"] = changes },
            e.ByPhone ?? (byLid is null ? null : map.PhoneOf(byLid)), byLid ?? (e.ByPhone is null ? null : map.LidOf(e.ByPhone)));
        await SaveAsync(db, instance, WebhookEvents.GroupUpdate, e.At, data, ct);
    }

    private async Task<bool> SubscribedAsync(Instance instance, string eventType, CancellationToken ct) =>
        await outbox.ResolveEndpointAsync(instance.CustomerId, instance.Id, ct) is { Enabled: true } endpoint && endpoint.EventList.Contains(eventType);

    /// <summary>Who did it in a group: <c>by</c> as a sender is named (<c>&lt;phone&gt;@c.us</c>, else the LID), <c>by_phone</c>, <c>by_lid</c>.</summary>
    private static JsonObject WithActor(JsonObject data, string? phone, string? lidUser)
    {
        var lid = lidUser is null ? null : lidUser + "@lid";
        data["by"] = phone is not null ? phone + "@c.us" : lid;
        data["by_phone"] = phone;
        data["by_lid"] = lid;
        return data;
    }

    private async Task SaveAsync(WapBridgeDbContext db, Instance instance, string eventType, DateTimeOffset at, JsonObject data, CancellationToken ct)
    {
        var customer = await db.Customers.Where(c => c.Id == instance.CustomerId).Select(c => c.Code).SingleAsync(ct);
        await outbox.SaveAsync(db, instance.CustomerId, instance.Id, eventType, () => WebhookPayloads.Event(eventType, instance.Code, customer, at, data), ct);
    }

    /// <summary>The engine's call statuses a receiver hears of; ringing, accept and terminate are not sent.</summary>
    internal static string? CallStatus(string engineStatus) => engineStatus switch
    {
        "offer" => "offer",
        "timeout" => "missed",
        "reject" => "rejected",
        _ => null,
    };

    private async Task AddUpdateAsync(Instance instance, MessageUpdateEvent update, CancellationToken ct)
    {
        var eventType = update switch
        {
            MessageReactionEvent => WebhookEvents.MessageReaction,
            MessageEditedEvent => WebhookEvents.MessageEdited,
            MessageRevokedEvent => WebhookEvents.MessageRevoked,
            PollVoteEvent => WebhookEvents.PollVote,
            _ => null,
        };
        if (eventType is null)
            return;
        var endpoint = await outbox.ResolveEndpointAsync(instance.CustomerId, instance.Id, ct);
        if (endpoint is not { Enabled: true } || !endpoint.EventList.Contains(eventType))
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // The id a receiver knows the message by: the one its send answered, or its inbound message webhook carried.
        var id = await db.Messages.AsNoTracking()
            .Where(m => m.InstanceId == instance.Id && m.WaMessageId == update.MessageId)
            .Select(m => m.SerializedId)
            .FirstOrDefaultAsync(ct) ?? update.MessageId;
        var data = update switch
        {
            MessageReactionEvent r => new JsonObject { ["id"] = id, ["emoji"] = r.Emoji },
            MessageEditedEvent e => new JsonObject { ["id"] = id, ["body"] = e.Body },
            PollVoteEvent v => new JsonObject
            {
                ["poll_id"] = id,
                ["selected_options"] = new JsonArray(v.Vote.SelectedOptions.Select(o => (JsonNode?)JsonValue.Create(o)).ToArray()),
                // False when the engine could not read the vote: then an empty list is no withdrawal.
                ["decrypted"] = v.Vote.Decrypted,
            },
            _ => new JsonObject { ["id"] = id },
        };
        var customer = await db.Customers.Where(c => c.Id == instance.CustomerId).Select(c => c.Code).SingleAsync(ct);
        await outbox.SaveAsync(db, instance.CustomerId, instance.Id, eventType,
            () => WebhookPayloads.Event(eventType, instance.Code, customer, update.At, WithSender(data, update.FromPhone, update.FromLid)), ct);
    }

    /// <summary>Who did it, as the <c>message</c> webhook names a sender (<c>from</c>), with phone and LID where known.</summary>
    private static JsonObject WithSender(JsonObject data, string? phone, string? lid)
    {
        data["from"] = phone is not null ? phone + "@c.us" : lid;
        data["from_phone"] = phone;
        data["from_lid"] = lid;
        return data;
    }

    private async Task AddAsync(Instance instance, string eventType, DateTimeOffset at, JsonObject data, CancellationToken ct, string? traceParent = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var customer = await db.Customers.Where(c => c.Id == instance.CustomerId).Select(c => c.Code).SingleAsync(ct);
        await outbox.SaveAsync(db, instance.CustomerId, instance.Id, eventType, () => WebhookPayloads.Event(eventType, instance.Code, customer, at, data), ct,
            traceParent: traceParent);
    }
}
