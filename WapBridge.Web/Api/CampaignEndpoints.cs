using System.Text.Json.Nodes;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record CreateCampaignArgs([FrappeRequired] string? InstanceId, string? CampaignName, string? Message, [FrappeRequired] JsonNode? Recipients, MediaUpload? MediaData,
    string? MimeType, string? Filename, string? Caption, DateTimeOffset? ScheduledAt, JsonObject? Throttle, bool? CheckNumbersFirst, string? Template = null,
    string? Language = null);
public sealed record CampaignCreated(bool Ok, string Campaign, CampaignState Status, int Total, IReadOnlyList<InvalidRecipient> Invalid, int Duplicates, int Skipped);
public sealed record CampaignArgs([FrappeRequired] string? Campaign);
public sealed record AddRecipientsArgs([FrappeRequired] string? Campaign, [FrappeRequired] JsonNode? Recipients);
public sealed record ListCampaignsArgs(string? Status, int? Limit, int? Offset);
public sealed record CampaignRecipientsArgs([FrappeRequired] string? Campaign, string? State, int? Limit, int? Offset);

/// <summary>Contract §3: the five seed methods and ours.</summary>
public static class CampaignEndpoints
{
    private const string Prefix = "wap_bridge.api.campaigns.";

    public static void MapCampaignEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<CreateCampaignArgs, CampaignCreated>(Prefix + "create_and_start_campaign", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Create a throttled bulk send and start it (or schedule it with scheduled_at)",
            async (args, call) =>
            {
                var (status, added) = await call.Service<CampaignService>().CreateAsync(call.CustomerId, new NewCampaign(args.InstanceId, args.CampaignName,
                    args.Message, args.Recipients, args.MediaData, args.MimeType ?? args.MediaData?.DeclaredType, args.Filename ?? args.MediaData?.DeclaredName,
                    args.Caption, args.ScheduledAt, args.Throttle, args.CheckNumbersFirst ?? false, args.Template, args.Language), call.Aborted);
                return new CampaignCreated(true, status.Campaign, status.Status, status.Total, added.Invalid, added.Duplicates, added.Skipped);
            });

        api.MapFrappeMethod<AddRecipientsArgs, RecipientsAdded>(Prefix + "add_campaign_recipients", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Add recipients to a running, paused or scheduled campaign",
            (args, call) => call.Service<CampaignService>().AddRecipientsAsync(call.CustomerId, args.Campaign, args.Recipients, call.Aborted),
            FrappeBody.Bulk);

        api.MapFrappeMethod<CampaignArgs, CampaignStatus>(Prefix + "campaign_status", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "Counters, progress, and why it is waiting",
            (args, call) => call.Service<CampaignService>().StatusAsync(call.CustomerId, args.Campaign, call.Aborted));

        api.MapFrappeMethod<CampaignArgs, CampaignStatus>(Prefix + "pause_campaign", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Pause before the next recipient (pausing a paused campaign is fine)",
            (args, call) => call.Service<CampaignService>().PauseAsync(call.CustomerId, args.Campaign, call.Aborted));

        api.MapFrappeMethod<CampaignArgs, CampaignStatus>(Prefix + "resume_campaign", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Resume from where it stopped (resuming a running campaign is fine)",
            (args, call) => call.Service<CampaignService>().ResumeAsync(call.CustomerId, args.Campaign, call.Aborted));

        api.MapFrappeMethod<CampaignArgs, CampaignStatus>(Prefix + "cancel_campaign", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Stop for good; recipients not yet sent stay pending",
            (args, call) => call.Service<CampaignService>().CancelAsync(call.CustomerId, args.Campaign, call.Aborted));

        api.MapFrappeMethod<ListCampaignsArgs, PagedList<CampaignStatus>>(Prefix + "list_campaigns", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The caller's campaigns, newest first",
            (args, call) => call.Service<CampaignService>().ListAsync(call.CustomerId, args.Status, Paging.From(args.Limit, args.Offset), call.Aborted));

        api.MapFrappeMethod<CampaignRecipientsArgs, PagedList<RecipientView>>(Prefix + "campaign_recipients", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "A campaign's recipients and their states, paged",
            (args, call) => call.Service<CampaignService>().RecipientsAsync(call.CustomerId, args.Campaign, args.State, Paging.From(args.Limit, args.Offset), call.Aborted));
    }
}
