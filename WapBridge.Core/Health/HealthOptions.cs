namespace WapBridge.Core.Health;

/// <summary>Section <c>WapBridge:Health</c>: the new-contact budget's warm-up schedule and how health is judged.</summary>
public sealed class HealthOptions
{
    public const string Section = "WapBridge:Health";

    /// <summary>
    /// New contacts allowed on each local day of a number's first days on WapBridge (day 1 first). Cautious because
    /// fresh numbers that message dozens of strangers a day are the ones WhatsApp bans. Unset means
    /// <see cref="DefaultWarmUp"/> (a default array here would be appended to by configured items).
    /// </summary>
    public int[]? WarmUp { get; set; }

    public static readonly int[] DefaultWarmUp = [10, 10, 15, 15, 20, 25, 30, 35, 40, 50, 60, 70, 85, 100];

    public int[] EffectiveWarmUp => WarmUp is { Length: > 0 } custom ? custom : DefaultWarmUp;

    /// <summary>New contacts a day once warmed up (after the schedule, and for numbers paired before budgets existed).</summary>
    public int WarmedUpDailyNewContacts { get; set; } = 250;

    /// <summary>How often each node re-judges the health of the instances it hosts (level changes fire <c>instance.health</c>).</summary>
    public TimeSpan EvaluateInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Recent traffic the signals (failure, not-on-WhatsApp, reply and opt-out rates) are read from.</summary>
    public TimeSpan SignalWindow { get; set; } = TimeSpan.FromDays(7);
}
