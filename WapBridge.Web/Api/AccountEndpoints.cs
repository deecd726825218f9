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
            async (_, call) =>
            {
                var caller = call.Caller ?? throw new Core.Common.WapBridgeException(Core.Common.ErrorKind.Permission,
                    "customer_key_required", "The admin token has no customer; call get_account with a customer's API key.");
                var customer = await call.Service<CustomerService>().FindByCodeAsync(caller.CustomerCode, call.Aborted);
                return new AccountResult(caller.CustomerCode, customer?.Name ?? "", caller.Key, caller.IsAdmin);
            });
    }
}
