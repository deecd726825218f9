using System.Text.Json.Nodes;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Messaging;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record SendTemplateArgs([FrappeRequired] string? ToNumber, [FrappeRequired] string? Template, [FrappeRequired] string? Language, JsonNode? Components,
    string? InstanceId, string? FromNumber, int? Wait);

public sealed record ListTemplatesArgs([FrappeRequired] string? InstanceId, int? Limit, int? Offset);

/// <summary>A template of the business account: its body with its placeholders, and their names in order.</summary>
public sealed record TemplateInfo(string Name, string Language, string Status, string Category, string? Body, IReadOnlyList<string> Variables);

/// <summary>Contract §11: approved templates (Cloud API), the only messages WhatsApp delivers outside the 24-hour window.</summary>
public static class TemplateEndpoints
{
    private const string Prefix = "wap_bridge.api.whatsapp.";

    public static void MapTemplateEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<SendTemplateArgs, SendApiMessageResult>(Prefix + "send_template", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Send an approved template (Cloud API) with Graph's components (its parameters), inside or outside the 24-hour window; answers like send_api_message",
            async (args, call) => ConversationEndpoints.Result(await call.Service<TemplateService>().SendAsync(
                new ConversationAddress(call.CustomerId, args.InstanceId, args.FromNumber, args.ToNumber, ConversationEndpoints.Wait(call, args.Wait)),
                args.Template, args.Language, args.Components, call.Aborted)));

        api.MapFrappeMethod<ListTemplatesArgs, PagedList<TemplateInfo>>(Prefix + "list_templates", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The business account's templates (any status; send those APPROVED) with their body and variables, asked from Meta: {data: [template], total, limit, offset}",
            async (args, call) =>
            {
                var paging = Paging.From(args.Limit, args.Offset);
                var templates = await call.Service<TemplateService>().ListAsync(call.CustomerId, args.InstanceId, call.Aborted);
                return new PagedList<TemplateInfo>(templates.Skip(paging.Offset).Take(paging.Limit).Select(Info).ToList(), templates.Count, paging.Limit, paging.Offset);
            });
    }

    private static TemplateInfo Info(EngineTemplate t) => new(t.Name, t.Language, t.Status, t.Category, t.Body, t.Variables);
}
