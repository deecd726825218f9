namespace WapBridge.Core.Health;

/// <summary>The levels of contract §12, from best to worst.</summary>
public static class HealthLevels
{
    public const string Good = "good";
    public const string Watch = "watch";
    public const string Danger = "danger";

    /// <summary>WhatsApp restricts or bans the number now.</summary>
    public const string Restricted = "restricted";
}

/// <summary>One reason behind a score, as shown to users: <c>code</c> is stable, <c>message</c> says what to do.</summary>
public sealed record HealthReason(string Code, string Message);

/// <summary>A judged instance: the §12 <c>health</c> object, plus what the dashboard shows of the day's budget.</summary>
public sealed record InstanceHealth(int Score, string Level, IReadOnlyList<HealthReason> Reasons, NewContactBudgetStatus Budget,
    DateTimeOffset? RestrictedUntil, DateTimeOffset? ProtectionOverrideUntil);
