namespace WapBridge.Web.Api;

/// <summary>Section <c>WapBridge:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string Section = "WapBridge:Api";

    /// <summary>
    /// Largest body of a method that takes a file (<c>media_data</c> or a multipart <c>file</c> part), 413 above.
    /// Default fits a 100 MB document in base64. The file is streamed into the media store, never held in memory.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 140 * 1024 * 1024;

    /// <summary>Largest body of every other method: named arguments need little.</summary>
    public long MaxArgumentBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Largest body of a method that takes long lists (campaign recipients, simulator batches), and the most a
    /// media method's arguments may hold besides its file: what is parsed in memory.
    /// </summary>
    public long MaxBulkBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>A request whose body grows past this many bytes counts as large (see <see cref="MaxConcurrentLargeBodies"/>).</summary>
    public long LargeBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Large bodies read at the same time; further ones wait for a turn.</summary>
    public int MaxConcurrentLargeBodies { get; set; } = 4;

    /// <summary>How long a large body waits for a turn before it is answered 429 with Retry-After.</summary>
    public TimeSpan LargeBodyWait { get; set; } = TimeSpan.FromSeconds(30);

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
