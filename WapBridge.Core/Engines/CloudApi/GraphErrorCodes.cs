namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Meta's error codes (a send's error answer, or a <c>failed</c> status's <c>errors[0].code</c>) in our words: the
/// reason a message fails with, and whether the same request may simply be tried again later.
/// </summary>
public static class GraphErrorCodes
{
    public const string TemplateRequired = "template_required";
    public const string Undeliverable = "undeliverable";
    public const string Limited = "limited";
    public const string Throttled = "throttled";
    public const string AccessTokenInvalid = "access_token_invalid";
    public const string TemplateInvalid = "template_invalid";
    public const string InvalidParameter = "invalid_parameter";
    public const string Unsupported = "unsupported_message";
    public const string MediaFailed = "media_failed";
    public const string GraphError = "graph_error";

    /// <summary>Graph could not be reached at all (no connection opened): nothing went out, the outbox tries again later.</summary>
    public const string Unreachable = "graph_unreachable";

    /// <summary>
    /// The send left but no answer came back (a timeout, a 5xx, a broken connection): it may or may not have reached
    /// WhatsApp, and Graph has no idempotency key, so it is not repeated.
    /// </summary>
    public const string Unconfirmed = "send_unconfirmed";

    /// <summary>Our reason for Meta's <paramref name="code"/> (HTTP 429 counts as <c>130429</c>).</summary>
    public static string ReasonFor(int code) => code switch
    {
        131047 => TemplateRequired,      // more than 24 hours since the customer last replied
        131026 or 131021 or 131030 => Undeliverable, // not on WhatsApp / old app, sender = recipient, not an allowed test number
        131049 or 131056 or 131048 or 368 => Limited, // ecosystem limit, pair rate limit, spam limit, policy block
        130429 or 80007 or 4 => Throttled, // throughput, WABA rate limit, app call limit
        190 or 10 or 200 => AccessTokenInvalid,
        132000 or 132001 or 132005 or 132007 or 132012 or 132015 or 132016 => TemplateInvalid,
        100 or 131008 or 131009 => InvalidParameter,
        131051 => Unsupported,
        131052 or 131053 => MediaFailed,
        _ => GraphError,
    };

    /// <summary>Whether Graph refused only for now (throughput): the same send may go again after a pause, nothing went out.</summary>
    public static bool IsThrottling(int code) => ReasonFor(code) == Throttled;
}
