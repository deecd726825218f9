namespace WapBridge.Core.Webhooks;

/// <summary>Section <c>WapBridge:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "WapBridge:Webhooks";

    /// <summary>Allow private and link-local targets (10.x, 192.168.x, 169.254.x, fc00::/7 …), and loopback too.</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Allow loopback targets (127.0.0.0/8, ::1): on for the embedded single-machine setup.</summary>
    public bool AllowLoopbackTargets { get; set; }

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public int MaxConcurrency { get; set; } = 16;

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
