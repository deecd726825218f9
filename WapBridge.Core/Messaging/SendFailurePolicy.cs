using WapBridge.Core.Engines.CloudApi;

namespace WapBridge.Core.Messaging;

public enum SendFailureAction
{
    /// <summary>The message fails for good with the error code.</summary>
    Fail,

    /// <summary>Transient: back to the outbox (status <c>queued</c>, same WhatsApp id), sent again shortly.</summary>
    Retry,

    /// <summary>Held (status <c>queued</c> with a hold reason) until the restriction ends; never retried into it.</summary>
    Hold,
}

public sealed record SendFailureDecision(SendFailureAction Action, string? HoldReason = null);

/// <summary>
/// What the outbox does with a send the engine refused, by error code (engine-agnostic: engines report WhatsApp's
/// numeric codes as text, and their own conditions with the names below).
/// </summary>
public static class SendFailurePolicy
{
    public const string AccountRestricted = "account_restricted";

    /// <summary>Held because the instance's new-contact budget for its local day is spent (contract §12).</summary>
    public const string NewContactBudget = "new_contact_budget";

    /// <summary>The recipient blocked the number: a signal the health score counts (the simulator plays it).</summary>
    public const string BlockedByRecipient = "blocked";

    /// <summary>WhatsApp's reach-out timelock: sends to new contacts are refused while it lasts.</summary>
    public const string ReachoutTimelock = "463";

    /// <summary>WhatsApp could not be asked whether the number is registered (the send was not tried).</summary>
    public const string NumberCheckFailed = "number_check_failed";

    /// <summary>How long a restriction is assumed to last when WhatsApp does not say.</summary>
    public static readonly TimeSpan DefaultRestriction = TimeSpan.FromHours(24);

    private static readonly TimeSpan[] RetryBackoff =
        [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    public static SendFailureDecision Decide(string? errorCode) => errorCode switch
    {
        // 408 timed out, 428 connection closed, 503 service unavailable; a socket that is not open.
        "not_connected" or "timeout" or NumberCheckFailed or "408" or "428" or "503" => new(SendFailureAction.Retry),
        // Cloud API: Graph refused for throughput, or could not be reached at all; either way nothing went out.
        GraphErrorCodes.Throttled or GraphErrorCodes.Unreachable => new(SendFailureAction.Retry),
        ReachoutTimelock => new(SendFailureAction.Hold, AccountRestricted),
        _ => new(SendFailureAction.Fail),
    };

    /// <summary>When a transient failure is tried again: soon at first, then at most once a minute.</summary>
    public static TimeSpan RetryDelay(int attempts) => RetryBackoff[Math.Clamp(attempts - 1, 0, RetryBackoff.Length - 1)];
}
