using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>
/// When an instance whose connection dropped tries again: with backoff while the close says "try again", at its end
/// after a ban, never otherwise (which closes say "try again" is <see cref="CloseCodePolicy"/>'s call, made by the engine).
/// </summary>
public static class ReconnectPolicy
{
    /// <summary>The wait before the first, second, … attempt since the instance was last connected; the last one repeats.</summary>
    public static IReadOnlyList<TimeSpan> Backoff { get; } =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    /// <summary>The longest one timer waits: Task.Delay takes at most ~24.8 days, so a longer ban is waited out in steps (WhatsApp answers 402 again meanwhile).</summary>
    public static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(24);

    /// <summary>How long to wait before the next attempt after <paramref name="disconnected"/>; null: no attempt.</summary>
    /// <param name="attemptsSoFar">Reconnect attempts since the instance was last connected.</param>
    public static TimeSpan? WaitAfter(DisconnectedEvent disconnected, int attemptsSoFar, DateTimeOffset now)
    {
        TimeSpan? wait = disconnected.BannedUntil is { } bannedUntil ? bannedUntil - now
            : disconnected.Transient ? Backoff[Math.Min(attemptsSoFar, Backoff.Count - 1)]
            : null;
        // A ban already over: try at once.
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <summary>The part of <paramref name="wait"/> one timer waits before the attempt.</summary>
    public static TimeSpan TimerWait(TimeSpan wait) => wait < MaxTimerWait ? wait : MaxTimerWait;
}
