using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record ScanQrArgs([FrappeRequired] string? InstanceId, [FrappeRequired] string? PhoneNumber, string? PushName);
public sealed record InboundMessageArgs(string? InstanceId, string? FromNumber, string? Message, string? MediaData, string? MimeType,
    string? Filename, string? Caption, string? PushName, string? FromLid, string? GroupId, string? QuotedId,
    string? ReactionTo = null, string? Emoji = null, string? EditOf = null, string? RevokeOf = null, PollVoteArgs? PollVote = null,
    InboundLocationArgs? Location = null, ContactArgs? Vcard = null);
public sealed record PollVoteArgs([FrappeRequired] string? PollId, [FrappeRequired] List<string?>? Options);
public sealed record InboundLocationArgs([FrappeRequired] double? Latitude, [FrappeRequired] double? Longitude, string? Name);
public sealed record InboundInjected(string Id, string InstanceId);
public sealed record InboundMessagesArgs([FrappeRequired] string? InstanceId, [FrappeRequired] List<InboundMessageArgs?>? Messages);
public sealed record InboundCallArgs([FrappeRequired] string? InstanceId, string? FromNumber, string? FromLid, bool? Video, string? Status);
public sealed record InboundCallInjected(string CallId, string InstanceId);
public sealed record InboundPresenceArgs([FrappeRequired] string? InstanceId, string? FromNumber, string? FromLid, [FrappeRequired] string? State);
public sealed record InboundPresenceInjected(string InstanceId, string State);
public sealed record InboundBatchInjected(string InstanceId, IReadOnlyList<string> Ids);
public sealed record SetConditionsArgs([FrappeRequired] string? InstanceId, DateTimeOffset? RestrictedUntil, DateTimeOffset? BannedUntil,
    List<string>? BlockedBy, double? ReplyRate);
public sealed record SimulatorConditions(string InstanceId, string PhoneNumber, DateTimeOffset? RestrictedUntil, DateTimeOffset? BannedUntil,
    IReadOnlyList<string> BlockedBy, double? ReplyRate);

/// <summary>Contract §6 simulator methods: stand-ins for a phone, only on simulator instances.</summary>
public static class SimulatorEndpoints
{
    private const string Prefix = "wap_bridge.api.simulator.";

    public static void MapSimulatorEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<ScanQrArgs, InstanceStatus>(Prefix + "scan_qr", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Simulator: scan the instance's QR code with a simulated phone",
            async (args, call) =>
            {
                var instance = await SimulatorInstanceAsync(call, args.InstanceId);
                var phone = WhatsAppNumbers.Normalize(args.PhoneNumber, "phone_number");
                await call.Service<SimulatedPhones>().ScanAsync(instance.Code, phone, args.PushName?.Trim(), call.Aborted);
                return InstanceEndpoints.ToStatus(await call.Service<InstanceService>().GetAsync(call.CustomerId, instance.Code, call.Aborted));
            });

        api.MapFrappeMethod<InboundMessageArgs, InboundInjected>(Prefix + "inbound_message", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Simulator: someone sends the instance a message",
            async (args, call) =>
            {
                var instance = await SimulatorInstanceAsync(call, args.InstanceId);
                var inbound = ToSimulated(args, instance, call.Service<IOptions<MessagingOptions>>().Value.MediaLimits);
                var id = await call.Service<SimulatedPhones>().InjectInboundAsync(instance.Code, inbound, call.Aborted);
                return new InboundInjected(WhatsAppIds.InboundSerializedId(inbound.FromPhone, inbound.FromLid, inbound.GroupId, id), instance.Code);
            }, FrappeBody.Bulk);

        api.MapFrappeMethod<InboundMessagesArgs, InboundBatchInjected>(Prefix + "inbound_messages", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            $"Simulator: up to {MaxBatch} people message the instance at the same moment (demos and load tests); answers the ids in the order given",
            async (args, call) =>
            {
                var instance = await SimulatorInstanceAsync(call, args.InstanceId);
                if (args.Messages is null || args.Messages.Count == 0)
                    throw WapBridgeException.Missing("messages");
                if (args.Messages.Count > MaxBatch)
                    throw WapBridgeException.Invalid("messages", "too_many", $"messages holds {args.Messages.Count} messages; send at most {MaxBatch} per call");
                // Every item is checked before any is injected: a bad item refuses the whole call, naming itself.
                var limits = call.Service<IOptions<MessagingOptions>>().Value.MediaLimits;
                var items = args.Messages.Select((item, i) =>
                {
                    try
                    {
                        return ToSimulated(item ?? throw WapBridgeException.Missing("message"), instance, limits);
                    }
                    catch (WapBridgeException e)
                    {
                        throw new WapBridgeException(e.Kind, e.Code, $"messages[{i}]: {e.Message}", $"messages[{i}].{e.Field}");
                    }
                }).ToList();
                // Injected together, as simultaneous arrivals: the recorder commits them as one batch.
                var network = call.Service<SimulatedPhones>();
                var ids = await Task.WhenAll(items.Select(item => network.InjectInboundAsync(instance.Code, item, call.Aborted)));
                return new InboundBatchInjected(instance.Code,
                    items.Select((item, i) => WhatsAppIds.InboundSerializedId(item.FromPhone, item.FromLid, item.GroupId, ids[i])).ToList());
            }, FrappeBody.Bulk);

        api.MapFrappeMethod<InboundCallArgs, InboundCallInjected>(Prefix + "inbound_call", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Simulator: someone calls the instance (status offer, timeout or reject; offer by default)",
            async (args, call) =>
            {
                var instance = await SimulatorInstanceAsync(call, args.InstanceId);
                var (phone, lid) = Sender(args.FromNumber, args.FromLid, instance);
                var status = string.IsNullOrWhiteSpace(args.Status) ? "offer" : args.Status.Trim().ToLowerInvariant();
                if (!CallStatuses.Contains(status))
                    throw WapBridgeException.Invalid("status", "invalid_status", $"status must be one of {string.Join(", ", CallStatuses)}");
                var id = await call.Service<SimulatedPhones>().InjectCallAsync(instance.Code, new SimulatedCall(phone, lid, args.Video ?? false, status), call.Aborted);
                return new InboundCallInjected(id, instance.Code);
            });

        api.MapFrappeMethod<InboundPresenceArgs, InboundPresenceInjected>(Prefix + "inbound_presence", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Simulator: a contact comes online, types, records, pauses or goes offline",
            async (args, call) =>
            {
                var instance = await SimulatorInstanceAsync(call, args.InstanceId);
                var (phone, lid) = Sender(args.FromNumber, args.FromLid, instance);
                var state = args.State?.Trim().ToLowerInvariant() ?? "";
                if (!PresenceStates.Contains(state))
                    throw WapBridgeException.Invalid("state", "invalid_state", $"state must be one of {string.Join(", ", PresenceStates)}");
                await call.Service<SimulatedPhones>().InjectPresenceAsync(instance.Code, new SimulatedPresence(phone, lid, state), call.Aborted);
                return new InboundPresenceInjected(instance.Code, state);
            });

        api.MapFrappeMethod<SetConditionsArgs, SimulatorConditions>(Prefix + "set_conditions", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Simulator: play what WhatsApp does to the instance's number (contract §12): restricted_until (sends to new contacts fail with 463), " +
            "banned_until (the connection closes with 402 until then), blocked_by (sends to those numbers fail), reply_rate (0..1, share of first-message " +
            "recipients that answer); each field given replaces that condition, null clears it; answers the conditions now",
            async (args, call) =>
            {
                var code = (await SimulatorInstanceAsync(call, args.InstanceId)).Code;
                // Read again, not from the live snapshot: the phone it was paired with last is the one the conditions belong to.
                var instance = await call.Service<InstanceService>().FindAsync(call.CustomerId, code, call.Aborted);
                var change = ReadConditions(args, call, instance);
                var phone = instance.PhoneNumber ?? throw WapBridgeException.Invalid("instance_id", "not_paired",
                    $"Instance {instance.Code} has no number yet, and conditions belong to the number: pair it first (simulator.scan_qr).");
                var conditions = await call.Service<SimulatedPhones>().SetConditionsAsync(instance.CustomerId, instance.Code, phone, change, call.Aborted);
                // A ban lifted early: the instance waiting for its end reconnects now, as WhatsApp lets it.
                if (change is { SetBannedUntil: true, BannedUntil: null })
                    await call.Service<IGrainFactory>().GetGrain<IInstanceGrain>(instance.Code).RetryNowAsync();
                return new SimulatorConditions(instance.Code, phone, conditions.RestrictedUntil, conditions.BannedUntil, conditions.BlockedBy, conditions.ReplyRate);
            });
    }

    /// <summary>Blocked-by numbers one call may set: more than any test or demo plays, far from a memory problem.</summary>
    private const int MaxBlockedBy = 10_000;

    private static SimulatedConditionsChange ReadConditions(SetConditionsArgs args, FrappeCall call, Instance instance)
    {
        var now = call.Service<TimeProvider>().GetUtcNow();
        DateTimeOffset? Future(DateTimeOffset? at, string field) => at is { } time && time <= now
            ? throw WapBridgeException.Invalid(field, "not_in_future", $"{field} must be a time in the future (it is {time:u}); send null to clear it")
            : at;
        if (args.BlockedBy is { Count: > MaxBlockedBy })
            throw WapBridgeException.Invalid("blocked_by", "too_many", $"blocked_by holds {args.BlockedBy.Count} numbers; give at most {MaxBlockedBy}");
        var blockedBy = args.BlockedBy?.Select((number, i) => WhatsAppNumbers.Normalize(number, $"blocked_by[{i}]", instance.DefaultCountry)).Distinct().ToList();
        if (args.ReplyRate is < 0 or > 1)
            throw WapBridgeException.Invalid("reply_rate", "out_of_range", "reply_rate must be between 0 (nobody answers) and 1 (everyone answers); send null to clear it");
        return new SimulatedConditionsChange(
            call.Given("restricted_until"), Future(args.RestrictedUntil, "restricted_until"),
            call.Given("banned_until"), Future(args.BannedUntil, "banned_until"),
            call.Given("blocked_by"), blockedBy,
            call.Given("reply_rate"), args.ReplyRate);
    }

    private const int MaxBatch = 1000;

    // The call statuses Baileys reports that a phone can cause; offer, timeout and reject reach the call webhook.
    private static readonly string[] CallStatuses = ["offer", "ringing", "timeout", "reject", "accept", "terminate"];
    private static readonly string[] PresenceStates = ["available", "unavailable", "composing", "recording", "paused"];

    private static (string? Phone, string? Lid) Sender(string? fromNumber, string? fromLid, Instance instance)
    {
        var phone = string.IsNullOrWhiteSpace(fromNumber) ? null : WhatsAppNumbers.Normalize(fromNumber, "from_number", instance.DefaultCountry);
        var lid = string.IsNullOrWhiteSpace(fromLid) ? null : fromLid.Trim();
        if (phone is null && lid is null)
            throw WapBridgeException.Missing("from_number");
        if (lid is not null && !lid.EndsWith("@lid", StringComparison.Ordinal))
            lid += "@lid";
        return (phone, lid);
    }

    private static SimulatedInbound ToSimulated(InboundMessageArgs args, Instance instance, MediaLimits limits)
    {
        var (fromPhone, fromLid) = Sender(args.FromNumber, args.FromLid, instance);
        var media = ReadMedia(args, limits);
        var extras = ReadExtras(args, instance);
        if (media is null && extras is null && string.IsNullOrWhiteSpace(args.Message))
            throw WapBridgeException.Missing("message");
        var groupId = string.IsNullOrWhiteSpace(args.GroupId) ? null
            : args.GroupId.Trim().EndsWith("@g.us", StringComparison.Ordinal) ? args.GroupId.Trim() : args.GroupId.Trim() + "@g.us";
        return new SimulatedInbound(fromPhone, fromLid, args.Message, media, args.Caption, args.PushName, groupId, args.QuotedId) { Extras = extras };
    }

    /// <summary>Contract §9's simulator counterparts: what a contact's phone sends besides text and media, one kind per message.</summary>
    private static SimulatedExtras? ReadExtras(InboundMessageArgs args, Instance instance)
    {
        var kinds = new[] { ("reaction_to", args.ReactionTo is not null), ("edit_of", args.EditOf is not null), ("revoke_of", args.RevokeOf is not null),
            ("poll_vote", args.PollVote is not null), ("location", args.Location is not null), ("vcard", args.Vcard is not null) }
            .Where(k => k.Item2).Select(k => k.Item1).ToList();
        if (kinds.Count == 0)
            return null;
        if (kinds.Count > 1)
            throw WapBridgeException.Invalid(kinds[1], "one_kind_only", $"a message is one thing: pass only one of {string.Join(", ", kinds)}");
        if (args.ReactionTo is { } reactionTo)
        {
            var emoji = args.Emoji?.Trim() ?? throw WapBridgeException.Missing("emoji");
            if (emoji.Length > 0 && !ConversationService.IsOneEmoji(emoji))
                throw WapBridgeException.Invalid("emoji", "invalid_emoji", "emoji must be one emoji, such as 👍, or \"\" to remove the reaction");
            return new SimulatedExtras { ReactionTo = Id(reactionTo, "reaction_to"), Emoji = emoji };
        }
        if (args.EditOf is { } editOf)
            return string.IsNullOrWhiteSpace(args.Message) ? throw WapBridgeException.Missing("message") : new SimulatedExtras { EditOf = Id(editOf, "edit_of") };
        if (args.RevokeOf is { } revokeOf)
            return new SimulatedExtras { RevokeOf = Id(revokeOf, "revoke_of") };
        if (args.PollVote is { } vote)
            return new SimulatedExtras
            {
                PollId = Id(vote.PollId, "poll_vote.poll_id"),
                PollOptions = (vote.Options ?? throw WapBridgeException.Missing("poll_vote.options"))
                    .Select((o, i) => string.IsNullOrWhiteSpace(o) ? throw WapBridgeException.Missing($"poll_vote.options[{i}]") : o.Trim()).ToList(),
            };
        if (args.Location is { } location)
        {
            var lat = location.Latitude ?? throw WapBridgeException.Missing("location.latitude");
            var lon = location.Longitude ?? throw WapBridgeException.Missing("location.longitude");
            if (lat is < -90 or > 90)
                throw WapBridgeException.Invalid("location.latitude", "out_of_range", "location.latitude must be between -90 and 90");
            if (lon is < -180 or > 180)
                throw WapBridgeException.Invalid("location.longitude", "out_of_range", "location.longitude must be between -180 and 180");
            return new SimulatedExtras { Location = new EngineLocation(lat, lon, string.IsNullOrWhiteSpace(location.Name) ? null : location.Name.Trim(), null, null) };
        }
        var card = args.Vcard!;
        var name = string.IsNullOrWhiteSpace(card.Name) ? throw WapBridgeException.Missing("vcard.name") : card.Name.Trim();
        return new SimulatedExtras { Contacts = [new SimulatedContact(name, WhatsAppNumbers.Normalize(card.Number, "vcard.number", instance.DefaultCountry))] };
    }

    private static string Id(string? id, string field) =>
        string.IsNullOrWhiteSpace(id) ? throw WapBridgeException.Missing(field) : WhatsAppIds.WaIdOf(id);

    private static async Task<Instance> SimulatorInstanceAsync(FrappeCall call, string? instanceId)
    {
        // An instance living here is known in memory (as on the send path): no query per injected message.
        var live = string.IsNullOrWhiteSpace(instanceId) ? null : call.Service<LocalInstances>().Snapshot(instanceId.Trim().ToUpperInvariant());
        var instance = live is not null && live.CustomerId == call.CustomerId
            ? live
            : await call.Service<InstanceService>().FindAsync(call.CustomerId, instanceId, call.Aborted);
        if (instance.Engine != SimulatorEngine.EngineName)
            throw WapBridgeException.Invalid("instance_id", "not_a_simulator", $"Instance {instance.Code} uses the {instance.Engine} engine; simulator methods need a simulator instance.");
        return instance;
    }

    // A phone's media is what its sender says it is, but no larger than WapBridge accepts for sending.
    private static EngineMedia? ReadMedia(InboundMessageArgs args, MediaLimits limits) =>
        string.IsNullOrWhiteSpace(args.MediaData)
            ? null
            : new EngineMedia(MediaValidator.DecodeWithinLimit(args.MediaData, args.MimeType, limits), args.MimeType!.Trim(), args.Filename);
}
