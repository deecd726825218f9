using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record CreateCustomerArgs(string? Name, string? Email, string? MaxInstances, string? MaxRecipientsPerCampaign, string? MaxMediaBytesPerMessage);
public sealed record UpdateCustomerArgs(string? Customer, string? Name, string? Email, string? MaxInstances, string? MaxRecipientsPerCampaign,
    string? MaxMediaBytesPerMessage);
/// <summary>The quotas are the customer's own; null means it follows the server's default (<c>WapBridge:Accounts:Quotas</c>).</summary>
public sealed record CustomerResult(string Customer, string Name, string Email, int? MaxInstances, int? MaxRecipientsPerCampaign, long? MaxMediaBytesPerMessage)
{
    public static CustomerResult From(Customer c) => new(c.Code, c.Name, c.Email, c.MaxInstances, c.MaxRecipientsPerCampaign, c.MaxMediaBytesPerMessage);
}
public sealed record CreateApiKeyArgs(string? Customer, string? Label);
public sealed record ApiKeyResult(string ApiKey, string ApiSecret, string Customer, string Label, string Authorization);
public sealed record ListArgs(int? Limit, int? Offset);
public sealed record CustomerListItem(string Customer, string Name, string Email, DateTimeOffset CreatedAt, int Users, int ActiveApiKeys,
    int? MaxInstances, int? MaxRecipientsPerCampaign, long? MaxMediaBytesPerMessage);

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
            "Change a customer's name, email or quotas (a quota of \"default\" follows the server's default again)",
            async (args, call) => CustomerResult.From(await call.Service<CustomerService>().UpdateAsync(args.Customer, args.Name, args.Email,
                new QuotaArguments(args.MaxInstances, args.MaxRecipientsPerCampaign, args.MaxMediaBytesPerMessage), call.Aborted)));

        api.MapFrappeMethod<CreateApiKeyArgs, ApiKeyResult>("wap_bridge.api.admin.create_api_key", FrappeVerbs.PostOnly, ApiPolicies.Admin,
            "Create an API key for a customer; the secret is shown only in this answer",
            async (args, call) =>
            {
                if (string.IsNullOrWhiteSpace(args.Customer)) throw WapBridgeException.Missing("customer");
                var customer = await call.Service<CustomerService>().FindByCodeAsync(args.Customer.Trim(), call.Aborted)
                    ?? throw WapBridgeException.NotFound("Customer", args.Customer, "customer");
                var key = await call.Service<ApiKeyService>().CreateAsync(customer.Id, args.Label, null, call.Aborted);
                return new ApiKeyResult(key.Summary.Key, key.Secret, customer.Code, key.Summary.Label, key.AuthorizationHeader);
            });

        api.MapFrappeMethod<ListArgs, PagedList<CustomerListItem>>("wap_bridge.api.admin.list_customers", FrappeVerbs.GetOrPost, ApiPolicies.Admin,
            "List customers",
            async (args, call) =>
            {
                var paging = Paging.From(args.Limit, args.Offset);
                var (items, total) = await call.Service<CustomerService>().ListAsync(paging.Limit, paging.Offset, call.Aborted);
                return new PagedList<CustomerListItem>(
                    items.Select(c => new CustomerListItem(c.Code, c.Name, c.Email, c.CreatedAt, c.Users, c.ActiveApiKeys,
                        c.MaxInstances, c.MaxRecipientsPerCampaign, c.MaxMediaBytesPerMessage)).ToList(),
                    total, paging.Limit, paging.Offset);
            });
    }
}
