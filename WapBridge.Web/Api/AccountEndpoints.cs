using WapBridge.Core.Accounts;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record NoArgs;
public sealed record AccountResult(string Customer, string Name, string ApiKey, bool IsAdmin);

public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<NoArgs, AccountResult>("wap_bridge.api.accounts.get_account", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "Who this API key belongs to: a cheap way to check credentials",
            async (args, call) =>
            {
                _ = call.CustomerId; // the admin token has no account: 403 before anything else
                var caller = call.Caller!;
                var customer = await call.Service<CustomerService>().FindByCodeAsync(caller.CustomerCode, call.Aborted);
                return new AccountResult(caller.CustomerCode, customer?.Name ?? "", caller.Key, caller.IsAdmin);
            });
    }
}
