namespace WapBridge.Web.Api;

/// <summary>Section <c>WapBridge:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string Section = "WapBridge:Api";

    /// <summary>Largest request body accepted (413 above). Default fits a 100 MB document in base64.</summary>
    public long MaxRequestBodyBytes { get; set; } = 140 * 1024 * 1024;

    public RateLimitOptions RateLimit { get; set; } = new();

    public AuthFailureOptions AuthFailures { get; set; } = new();
}

/// <summary>A token bucket per API key: <see cref="Burst"/> requests at once, refilled at <see cref="PermitsPerSecond"/>.</summary>
public sealed class RateLimitOptions
{
    public bool Enabled { get; set; } = true;
    public int PermitsPerSecond { get; set; } = 50;
    public int Burst { get; set; } = 100;
}

/// <summary>
/// Failed authentications per client address: past <see cref="Limit"/> within <see cref="Window"/>, further failures
/// from that address answer 429 until the window ends. <see cref="Limit"/> 0 turns it off.
/// </summary>
public sealed class AuthFailureOptions
{
    public int Limit { get; set; } = 30;
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
