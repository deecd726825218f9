using WapBridge.Core.Common;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record GetWebhookArgs(string? InstanceId);
public sealed record SetWebhookArgs(string? Url, string? Secret, bool? GenerateSecret, List<string>? Events, string? InstanceId);
public sealed record ListDeliveriesArgs(string? State, string? Event, int? Limit, int? Offset);
public sealed record RedeliverArgs([FrappeRequired] long? Delivery);

/// <summary>Contract §6 webhook settings and the delivery log.</summary>
public static class SettingsEndpoints
{
    private const string Prefix = "wap_bridge.api.settings.";

    public static void MapSettingsEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<GetWebhookArgs, WebhookSettingsView>(Prefix + "get_webhook", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The webhook settings (secret masked), or an instance's override",
            (args, call) => call.Service<WebhookSettingsService>().GetAsync(call.CustomerId, args.InstanceId, call.Aborted));

        api.MapFrappeMethod<SetWebhookArgs, WebhookSettingsView>(Prefix + "set_webhook", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Set the webhook URL, secret (typed, or generate_secret=true to get one shown once) and events; an empty url removes it",
            async (args, call) =>
            {
                var view = await call.Service<WebhookSettingsService>().SetAsync(call.CustomerId, args.Url, args.Secret, args.GenerateSecret == true,
                    args.Events, args.InstanceId, call.Aborted);
                if (view.Secret is { } generated)
                    call.ShownOnce(generated);
                return view;
            });

        api.MapFrappeMethod<GetWebhookArgs, TestResult>(Prefix + "test_webhook", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Send a test event now and answer what the receiver said",
            (args, call) => call.Service<WebhookSettingsService>().SendTestAsync(call.CustomerId, args.InstanceId, call.Aborted));

        api.MapFrappeMethod<ListDeliveriesArgs, PagedList<DeliveryView>>(Prefix + "list_webhook_deliveries", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The webhook delivery log, newest first",
            (args, call) => call.Service<WebhookSettingsService>().ListDeliveriesAsync(call.CustomerId, args.State, args.Event,
                Paging.From(args.Limit, args.Offset), call.Aborted));

        api.MapFrappeMethod<RedeliverArgs, TestResult>(Prefix + "redeliver_webhook", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            "Send a delivery again now (same webhook-id)",
            (args, call) => call.Service<WebhookSettingsService>().RedeliverAsync(call.CustomerId, args.Delivery, call.Aborted));
    }
}
