using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using WapBridge.Core.Accounts;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

/// <summary>Per-key token buckets; an exhausted bucket answers 429 with Retry-After in the contract's error body.</summary>
public static class ApiRateLimiting
{
    public const string PolicyName = "api-key";

    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services, RateLimitOptions options)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PolicyName, context =>
            {
                // The operator's bootstrap admin token is not an integrator's key: it is never throttled.
                var partition = context.User.FindFirst(WapBridgeClaims.ApiKey)?.Value;
                if (!options.Enabled || partition is null)
                    return RateLimitPartition.GetNoLimiter("unlimited");
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(1, options.Burst),
                    TokensPerPeriod = Math.Max(1, options.PermitsPerSecond),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, _) =>
            {
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                    ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                    : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await new FrappeError(StatusCodes.Status429TooManyRequests, "TooManyRequestsError", "rate_limited",
                    $"Too many requests for this API key: at most {options.PermitsPerSecond} per second (burst {options.Burst}); retry after {seconds} s")
                    .WriteAsync(rejected.HttpContext);
            };
        });
        return services;
    }
}
