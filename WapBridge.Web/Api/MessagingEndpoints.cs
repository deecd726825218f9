using System.Text.Json.Serialization;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record SendApiMessageArgs(string? FromNumber, [FrappeRequired] string? ToNumber, string? Message, MediaUpload? MediaData, string? MimeType,
    string? Filename, string? Caption, string? InstanceId, int? Wait, string? QuotedId = null, List<string?>? Mentions = null, string? MediaUrl = null);

public sealed record ServiceResult([property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);

/// <param name="Reason">Contract §12: why a queued send waits (<c>new_contact_budget</c>, <c>account_restricted</c>), until <paramref name="NextSendAt"/>.</param>
public sealed record SendApiMessageResult(bool Ok, string Id, MessageStatus Status, string InstanceId, string To, ServiceResult Service,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextSendAt = null);

public sealed record MessageStatusArgs([FrappeRequired] string? Id);

public sealed record ErpnextGatewayArgs([FrappeRequired] string? ToNumber, [FrappeRequired] string? Message, string? InstanceId);

public sealed record ErpnextGatewayResult(bool Ok, ServiceResult Service,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MessageStatus? Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextSendAt = null);

public sealed record ListMessagesArgs(string? InstanceId, string? Direction, string? Status, string? Number, string? Campaign,
    DateTimeOffset? Since, DateTimeOffset? Until, int? Limit, int? Offset);

/// <summary>Contract §2: sending and the message log.</summary>
public static class MessagingEndpoints
{
    private const string Prefix = "wap_bridge.api.whatsapp.";

    public static void MapMessagingEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<SendApiMessageArgs, SendApiMessageResult>(Prefix + "send_api_message", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Send a text or media message (media_data, media_url, or a multipart file part), to a number or a group, optionally replying (quoted_id) and mentioning (persisted before it is sent; waits up to `wait` seconds for the send)",
            async (args, call) =>
            {
                var outcome = await call.Service<MessageService>().SendAsync(new SendRequest(
                    call.CustomerId, args.InstanceId, args.FromNumber, args.ToNumber, args.Message, args.MediaData,
                    args.MimeType ?? args.MediaData?.DeclaredType, args.Filename ?? args.MediaData?.DeclaredName, args.Caption, MessageSources.Api,
                    ConversationEndpoints.Wait(call, args.Wait), QuotedId: args.QuotedId, Mentions: args.Mentions, MediaUrl: args.MediaUrl), call.Aborted);
                return ConversationEndpoints.Result(outcome);
            });

        api.MapFrappeMethod<ErpnextGatewayArgs, ErpnextGatewayResult>(Prefix + "erpnext_notification_gateway", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "ERPNext/Frappe SMS gateway: answers as soon as the message is queued; a bad number answers ok:false with 200 so the other receivers still go out",
            async (args, call) =>
            {
                if (string.IsNullOrWhiteSpace(args.Message))
                    throw WapBridgeException.Missing("message");
                var request = new SendRequest(call.CustomerId, args.InstanceId, null, args.ToNumber, ErpnextText.ToPlainText(args.Message),
                    null, null, null, null, MessageSources.Erpnext, TimeSpan.Zero);
                var messages = call.Service<MessageService>();
                try
                {
                    var outcome = await messages.SendAsync(request, call.Aborted);
                    // Over the new-contact budget or during a restriction the message waits, queued: still a success for ERPNext.
                    return new ErpnextGatewayResult(true, new ServiceResult(true, outcome.Id), outcome.Status, outcome.HoldReason, outcome.NextSendAt);
                }
                catch (WapBridgeException e) when (e.Field == "to_number")
                {
                    // ERPNext stops at the first non-2xx and drops the other receivers: a bad number is an answer, not an error.
                    await messages.RecordRejectedAsync(request, e, call.Aborted);
                    return new ErpnextGatewayResult(false, new ServiceResult(false, null, e.Message), null);
                }
            },
            // ERPNext's SMS Settings add static parameters of the user's choosing to every request.
            quietAboutUnknownArguments: true);

        api.MapFrappeMethod<MessageStatusArgs, MessageRecord>(Prefix + "message_status", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "One message's record and status, by its id",
            (args, call) => call.Service<MessageLog>().GetAsync(call.CustomerId, args.Id, call.Aborted));

        api.MapFrappeMethod<ListMessagesArgs, PagedList<MessageRecord>>(Prefix + "list_messages", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The message log, newest first, with filters",
            (args, call) => call.Service<MessageLog>().ListAsync(call.CustomerId,
                new MessageFilter(args.InstanceId, args.Direction, args.Status, args.Number, args.Campaign, args.Since, args.Until),
                Paging.From(args.Limit, args.Offset), call.Aborted));

        api.MapConversationEndpoints();
    }
}
