using Microsoft.AspNetCore.Identity;

namespace WapBridge.Core.Accounts;

/// <summary>A dashboard login. Every user belongs to exactly one customer.</summary>
public sealed class WapBridgeUser : IdentityUser
{
    public int CustomerId { get; set; }
    public Customer? Customer { get; set; }
}

public static class Roles
{
    /// <summary>Operates the whole server: customers, users, Hangfire.</summary>
    public const string Admin = "Admin";

    /// <summary>Manages one customer's instances, keys and campaigns.</summary>
    public const string Owner = "Owner";
}

public static class WapBridgeClaims
{
    /// <summary>Numeric primary key of the caller's customer.</summary>
    public const string CustomerId = "wapbridge:customer_id";

    /// <summary>Public customer code, <c>CUST-0001</c>.</summary>
    public const string CustomerCode = "wapbridge:customer";

    /// <summary>Public id of the API key that authenticated the request.</summary>
    public const string ApiKey = "wapbridge:api_key";

    public const string ApiKeyId = "wapbridge:api_key_id";
}
