using WapBridge.Core.Accounts;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Web.Api.Frappe;
using WapBridge.Web.Hosting;

namespace WapBridge.Web.Api;

public sealed record CreateCustomerArgs([FrappeRequired] string? Name, [FrappeRequired] string? Email, string? MaxInstances, string? MaxRecipientsPerCampaign, string? MaxMediaBytesPerMessage);
public sealed record UpdateCustomerArgs([FrappeRequired] string? Customer, string? Name, string? Email, string? MaxInstances, string? MaxRecipientsPerCampaign,
    string? MaxMediaBytesPerMessage, bool? AllowUnthrottledCampaigns = null);
/// <summary>The quotas are the customer's own; null means it follows the server's default (<c>WapBridge:Accounts:Quotas</c>).</summary>
public sealed record CustomerResult(string Customer, string Name, string Email, int? MaxInstances, int? MaxRecipientsPerCampaign, long? MaxMediaBytesPerMessage)
{
    /// <summary>Contract §12: an Admin let this customer run campaigns without spacing or caps on real engines.</summary>
    public bool AllowUnthrottledCampaigns { get; init; }

    public static CustomerResult From(Customer c) =>
        new(c.Code, c.Name, c.Email, c.MaxInstances, c.MaxRecipientsPerCampaign, c.MaxMediaBytesPerMessage) { AllowUnthrottledCampaigns = c.AllowUnthrottledCampaigns };
}
public sealed record CreateApiKeyArgs([FrappeRequired] string? Customer, string? Label, bool? IsAdmin);
public sealed record ApiKeyResult(string ApiKey, string ApiSecret, string Customer, string Label, string Authorization, bool IsAdmin);
public sealed record SetupTokenResult(string SetupToken, DateTimeOffset ExpiresAt, string RegisterUrl);
public sealed record ListArgs(int? Limit, int? Offset);
public sealed record CustomerListItem(string Customer, string Name, string Email, DateTimeOffset CreatedAt, int Users, int ActiveApiKeys,
    int? MaxInstances, int? MaxRecipientsPerCampaign, long? MaxMediaBytesPerMessage, bool AllowUnthrottledCampaigns = false);

/// <summary>Contract §6 admin methods: an Admin user's key or the bootstrap admin token.</summary>
public static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<CreateCustomerArgs, CustomerResult>("wap_bridge.api.admin.create_customer", FrappeVerbs.PostOnly, ApiPolicies.Admin,
            "Create a customer account",
            async (args, call) => CustomerResult.From(await call.Service<CustomerService>().CreateAsync(args.Name, args.Email,
                new QuotaArguments(args.MaxInstances, args.MaxRecipientsPerCampaign, args.MaxMediaBytesPerMessage), call.Aborted)));

        api.MapFrappeMethod<UpdateCustomerArgs, CustomerResult>("wap_bridge.api.admin.update_customer", FrappeVerbs.PostOnly, ApiPolicies.Admin,
            "Change a customer's name, email, quotas (a quota of \"default\" follows the server's default again) or whether it may run unthrottled campaigns on real engines",
            async (args, call) => CustomerResult.From(await call.Service<CustomerService>().UpdateAsync(args.Customer, args.Name, args.Email,
                new QuotaArguments(args.MaxInstances, args.MaxRecipientsPerCampaign, args.MaxMediaBytesPerMessage), call.Aborted, args.AllowUnthrottledCampaigns)));

        api.MapFrappeMethod<CreateApiKeyArgs, ApiKeyResult>("wap_bridge.api.admin.create_api_key", FrappeVerbs.PostOnly, ApiPolicies.Admin,
            "Create an API key for a customer; the secret is shown only in this answer",
            async (args, call) =>
            {
                if (string.IsNullOrWhiteSpace(args.Customer)) throw WapBridgeException.Missing("customer");
                var customer = await call.Service<CustomerService>().FindByCodeAsync(args.Customer.Trim(), call.Aborted)
                    ?? throw WapBridgeException.NotFound("Customer", args.Customer, "customer");
                var apiKeys = call.Service<ApiKeyService>();
                string? creator = null;
                if (args.IsAdmin == true)
                {
                    // An admin key is tied to the Admin user who made it (demoting them disarms it), so only an Admin's own
                    // admin key may ask for one, and only for that Admin's customer. The bootstrap token has no user to tie
                    // it to, and keys made for other customers are never admin keys.
                    if (call.Caller is not { IsAdmin: true } caller)
                        throw WapBridgeException.Invalid("is_admin", "admin_key_not_allowed",
                            "is_admin needs an Admin user's admin key: the admin token cannot make admin keys. Create one under Settings → API keys while signed in as an Admin.");
                    if (caller.CustomerId != customer.Id)
                        throw WapBridgeException.Invalid("is_admin", "admin_key_not_allowed",
                            $"is_admin is allowed only for your own customer {caller.CustomerCode}: keys for other customers are never admin keys");
                    creator = await apiKeys.CreatorOfAsync(caller.ApiKeyId, call.Aborted);
                }
                var key = await apiKeys.CreateAsync(customer.Id, args.Label, creator, args.IsAdmin == true, call.Aborted);
                call.ShownOnce(key.Secret);
                return new ApiKeyResult(key.Summary.Key, key.Secret, customer.Code, key.Summary.Label, key.AuthorizationHeader, key.Summary.IsAdmin);
            });

        api.MapFrappeMethod<NoArgs, SetupTokenResult>("wap_bridge.api.admin.create_setup_token", FrappeVerbs.PostOnly, ApiPolicies.Admin,
            "A one-time token that makes a registration the server's Admin (admin token only); it is shown only in this answer",
            async (_, call) =>
            {
                // Only the operator's token: an Admin user's key minting new Admin logins would outlive the key's revocation.
                if (call.Caller is not null)
                    throw new WapBridgeException(ErrorKind.Permission, "admin_token_required",
                        "Not permitted: create_setup_token needs 'Authorization: Bearer <WAPBRIDGE_ADMIN_TOKEN>', not an API key");
                var token = await call.Service<SetupTokens>().CreateAsync(call.Aborted);
                call.ShownOnce(token.Token);
                var registerUrl = call.Service<ServerPublicUrls>().SiteBaseUrl.TrimEnd('/') + "/Account/Register";
                return new SetupTokenResult(token.Token, token.ExpiresAt, registerUrl);
            });

        api.MapFrappeMethod<ListArgs, PagedList<CustomerListItem>>("wap_bridge.api.admin.list_customers", FrappeVerbs.GetOrPost, ApiPolicies.Admin,
            "List customers",
            async (args, call) =>
            {
                var paging = Paging.From(args.Limit, args.Offset);
                var (items, total) = await call.Service<CustomerService>().ListAsync(paging.Limit, paging.Offset, call.Aborted);
                return new PagedList<CustomerListItem>(
                    items.Select(c => new CustomerListItem(c.Code, c.Name, c.Email, c.CreatedAt, c.Users, c.ActiveApiKeys,
                        c.MaxInstances, c.MaxRecipientsPerCampaign, c.MaxMediaBytesPerMessage, c.AllowUnthrottledCampaigns)).ToList(),
                    total, paging.Limit, paging.Offset);
            });

        api.MapFrappeMethod<NoArgs, IReadOnlyList<NodeSummary>>("wap_bridge.api.admin.list_nodes", FrappeVerbs.GetOrPost, ApiPolicies.Admin,
            "The cluster's nodes: address, status, instances living there, start and last heartbeat (contract §10)",
            async (_, call) => await call.Service<ClusterNodes>().ListAsync(call.Aborted));
    }
}
