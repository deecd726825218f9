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
    string? Filename, string? Caption, string? PushName, string? FromLid, string? GroupId, string? QuotedId);
public sealed record InboundInjected(string Id, string InstanceId);
public sealed record InboundMessagesArgs([FrappeRequired] string? InstanceId, [FrappeRequired] List<InboundMessageArgs?>? Messages);
public sealed record InboundBatchInjected(string InstanceId, IReadOnlyList<string> Ids);

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
    }

    private const int MaxBatch = 1000;

    private static SimulatedInbound ToSimulated(InboundMessageArgs args, Instance instance, MediaLimits limits)
    {
        var fromPhone = string.IsNullOrWhiteSpace(args.FromNumber) ? null : WhatsAppNumbers.Normalize(args.FromNumber, "from_number", instance.DefaultCountry);
        var fromLid = string.IsNullOrWhiteSpace(args.FromLid) ? null : args.FromLid.Trim();
        if (fromPhone is null && fromLid is null)
            throw WapBridgeException.Missing("from_number");
        if (fromLid is not null && !fromLid.EndsWith("@lid", StringComparison.Ordinal))
            fromLid += "@lid";
        var media = ReadMedia(args, limits);
        if (media is null && string.IsNullOrWhiteSpace(args.Message))
            throw WapBridgeException.Missing("message");
        var groupId = string.IsNullOrWhiteSpace(args.GroupId) ? null
            : args.GroupId.Trim().EndsWith("@g.us", StringComparison.Ordinal) ? args.GroupId.Trim() : args.GroupId.Trim() + "@g.us";
        return new SimulatedInbound(fromPhone, fromLid, args.Message, media, args.Caption, args.PushName, groupId, args.QuotedId);
    }

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
