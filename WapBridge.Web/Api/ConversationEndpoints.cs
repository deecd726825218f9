using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Messaging;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record SendReactionArgs([FrappeRequired] string? Id, [FrappeRequired] string? Emoji, int? Wait);

public sealed record SendLocationArgs([FrappeRequired] string? ToNumber, [FrappeRequired] double? Latitude, [FrappeRequired] double? Longitude, string? Name,
    string? Address, string? InstanceId, string? FromNumber, int? Wait);

public sealed record ContactArgs([FrappeRequired] string? Name, [FrappeRequired] string? Number);

public sealed record SendContactArgs([FrappeRequired] string? ToNumber, [FrappeRequired] List<ContactArgs?>? Contacts, string? InstanceId, string? FromNumber,
    int? Wait);

public sealed record SendPollArgs([FrappeRequired] string? ToNumber, [FrappeRequired] string? Question, [FrappeRequired] List<string?>? Options,
    bool? MultipleAnswers, string? InstanceId, string? FromNumber, int? Wait);

public sealed record EditMessageArgs([FrappeRequired] string? Id, [FrappeRequired] string? Message, int? Wait);

public sealed record DeleteMessageArgs([FrappeRequired] string? Id, bool? ForEveryone, int? Wait);

public sealed record MarkReadArgs(string? Id, string? InstanceId, string? Chat);

public sealed record SendPresenceArgs(string? InstanceId, [FrappeRequired] string? ToNumber, [FrappeRequired] string? State, string? FromNumber);

/// <summary>The answer of a method that creates no WhatsApp message: <c>{"ok": true}</c>, and how many messages it marked read.</summary>
public sealed record OkResult(bool Ok, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Marked = null);

/// <summary>
/// Contract §9 "Richer sends": reactions, locations, contacts, polls, edits, deletes, read marks and presence. A method
/// that creates a WhatsApp message answers like <c>send_api_message</c> (persisted first, sent by the outbox).
/// </summary>
public static class ConversationEndpoints
{
    private const string Prefix = "wap_bridge.api.whatsapp.";

    public static void MapConversationEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<SendReactionArgs, SendApiMessageResult>(Prefix + "send_reaction", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "React to a message with one emoji (\"\" removes the reaction); answers like send_api_message",
            async (args, call) => Result(await Conversations(call).SendReactionAsync(call.CustomerId, args.Id, args.Emoji, Wait(call, args.Wait), call.Aborted)));

        api.MapFrappeMethod<SendLocationArgs, SendApiMessageResult>(Prefix + "send_location", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Send a location (latitude -90..90, longitude -180..180, optional name and address); answers like send_api_message",
            async (args, call) => Result(await Conversations(call).SendLocationAsync(Address(call, args.InstanceId, args.FromNumber, args.ToNumber, args.Wait),
                args.Latitude, args.Longitude, args.Name, args.Address, call.Aborted)));

        api.MapFrappeMethod<SendContactArgs, SendApiMessageResult>(Prefix + "send_contact", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            $"Share 1 to {ConversationService.MaxContacts} contact cards ({{\"name\", \"number\"}}); answers like send_api_message",
            async (args, call) => Result(await Conversations(call).SendContactsAsync(Address(call, args.InstanceId, args.FromNumber, args.ToNumber, args.Wait),
                args.Contacts?.Select(c => c is null ? ((string?, string?)?)null : (c.Name, c.Number)).ToList(), call.Aborted)));

        api.MapFrappeMethod<SendPollArgs, SendApiMessageResult>(Prefix + "send_poll", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            $"Send a poll: a question and {ConversationService.MinPollOptions} to {ConversationService.MaxPollOptions} different answers, one answer each unless multiple_answers; answers like send_api_message",
            async (args, call) => Result(await Conversations(call).SendPollAsync(Address(call, args.InstanceId, args.FromNumber, args.ToNumber, args.Wait),
                args.Question, args.Options, args.MultipleAnswers ?? false, call.Aborted)));

        api.MapFrappeMethod<EditMessageArgs, SendApiMessageResult>(Prefix + "edit_message", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Edit one of your own text messages within WhatsApp's 15 minutes (later: 409); answers like send_api_message for the edit",
            async (args, call) => Result(await Conversations(call).EditAsync(call.CustomerId, args.Id, args.Message, Wait(call, args.Wait), call.Aborted)));

        api.MapFrappeMethod<DeleteMessageArgs, DeleteMessageResult>(Prefix + "delete_message", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Delete a message for you, or with for_everyone=true one of your own for everyone within about 2 days (that answers like send_api_message)",
            async (args, call) =>
            {
                var outcome = await Conversations(call).DeleteAsync(call.CustomerId, args.Id, args.ForEveryone ?? false, Wait(call, args.Wait), call.Aborted);
                return outcome is null ? DeleteMessageResult.ForMe : DeleteMessageResult.From(Result(outcome));
            });

        api.MapFrappeMethod<MarkReadArgs, OkResult>(Prefix + "mark_read", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Mark received messages read (blue ticks): the chat of message id up to it, or instance_id and chat up to now; answers {ok, marked}",
            async (args, call) => new OkResult(true, await Conversations(call).MarkReadAsync(call.CustomerId, args.Id, args.InstanceId, args.Chat, call.Aborted)));

        api.MapFrappeMethod<SendPresenceArgs, OkResult>(Prefix + "send_presence", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Show a presence to a chat: composing, recording, paused, available or unavailable; answers {ok}",
            async (args, call) =>
            {
                await Conversations(call).SendPresenceAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.ToNumber, args.State, call.Aborted);
                return new OkResult(true);
            });
    }

    private static ConversationService Conversations(FrappeCall call) => call.Service<ConversationService>();

    private static ConversationAddress Address(FrappeCall call, string? instanceId, string? fromNumber, string? toNumber, int? wait) =>
        new(call.CustomerId, instanceId, fromNumber, toNumber, Wait(call, wait));

    /// <summary>As <c>send_api_message</c>'s <c>wait</c>: seconds to wait for the send, 0 answers once queued.</summary>
    internal static TimeSpan Wait(FrappeCall call, int? wait)
    {
        var options = call.Service<IOptions<MessagingOptions>>().Value;
        var seconds = wait ?? options.DefaultWaitSeconds;
        if (seconds < 0 || seconds > options.MaxWaitSeconds)
            throw WapBridgeException.Invalid("wait", "out_of_range", $"wait must be between 0 and {options.MaxWaitSeconds} seconds");
        return TimeSpan.FromSeconds(seconds);
    }

    internal static SendApiMessageResult Result(SendOutcome outcome)
    {
        // Contract §11: the caller waited and the Cloud API's 24-hour window refused the free-form send (the row stays, failed).
        if (outcome is { Status: MessageStatus.Failed, ErrorCode: GraphErrorCodes.TemplateRequired })
            throw new WapBridgeException(ErrorKind.Conflict, GraphErrorCodes.TemplateRequired, $"Message {outcome.Id} was not sent: {outcome.Error}", "to_number");
        var ok = outcome.Status != MessageStatus.Failed;
        return new SendApiMessageResult(ok, outcome.Id, outcome.Status, outcome.InstanceId, outcome.To, new ServiceResult(ok, outcome.Id, outcome.Error), outcome.Error,
            outcome.HoldReason, outcome.NextSendAt);
    }
}

/// <summary><c>delete_message</c>'s answer: <c>{"ok": true}</c> for a delete for you, the <c>send_api_message</c> shape for a delete for everyone.</summary>
public sealed record DeleteMessageResult(bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MessageStatus? Status = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? InstanceId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? To = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ServiceResult? Service = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextSendAt = null)
{
    public static readonly DeleteMessageResult ForMe = new(true);

    public static DeleteMessageResult From(SendApiMessageResult r) => new(r.Ok, r.Id, r.Status, r.InstanceId, r.To, r.Service, r.Error, r.Reason, r.NextSendAt);
}
