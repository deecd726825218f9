namespace WapBridge.Core.Webhooks;

/// <summary>Section <c>WapBridge:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "WapBridge:Webhooks";

    /// <summary>
    /// Allow private and link-local targets (10.x, 172.16–31.x, 192.168.x, 100.64/10, 169.254.x, fc00::/7, fe80::/10), and loopback too.
    /// Off by default: a tenant's webhook could otherwise reach the server's own network. Reserved ranges stay refused.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Allow targets on this machine (127.0.0.0/8, ::1, the host's own addresses); off by default, on for tests and single-machine demos.</summary>
    public bool AllowLoopbackTargets { get; set; }

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts in flight at once on this node, over all endpoints: room for many slow receivers besides the quick ones.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>
    /// Attempts in flight at once to one endpoint on this node, so a slow or hanging receiver holds up only its own deliveries.
    /// A receiver that answers quickly may get four times as many while half of <see cref="MaxConcurrency"/> is free.
    /// </summary>
    public int MaxConcurrencyPerEndpoint { get; set; } = 4;

    public static readonly TimeSpan[] DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(24),
    ];

    /// <summary>
    /// Delays between attempts; after the last one the delivery is dead. Unset means
    /// <see cref="DefaultRetrySchedule"/> (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h).
    /// </summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    public TimeSpan[] EffectiveRetrySchedule => RetrySchedule is { Length: > 0 } custom ? custom : DefaultRetrySchedule;

    /// <summary>Media up to this size is inlined as base64 in <c>media.data</c>; larger media only has <c>media.url</c>.</summary>
    public long InlineMediaBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>How long a signed <c>media.url</c> stays valid.</summary>
    public TimeSpan MediaUrlLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Public base URL used in <c>media.url</c>; defaults to the first listen address.</summary>
    public string? PublicBaseUrl { get; set; }
}
