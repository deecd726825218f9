using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

/// <summary>Puts the user's customer into the sign-in cookie, so every dashboard query can be scoped without a lookup.</summary>
public sealed class WapBridgeClaimsPrincipalFactory(
    UserManager<WapBridgeUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<IdentityOptions> options,
    WapBridgeDbContext db)
    : UserClaimsPrincipalFactory<WapBridgeUser, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(WapBridgeUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        var code = await db.Customers.Where(c => c.Id == user.CustomerId).Select(c => c.Code).SingleAsync();
        identity.AddClaim(new Claim(WapBridgeClaims.CustomerId, user.CustomerId.ToString(CultureInfo.InvariantCulture)));
        identity.AddClaim(new Claim(WapBridgeClaims.CustomerCode, code));
        return identity;
    }
}
