namespace WapBridge.Tests.TestHost;

/// <summary>
/// The system clock moved forward by what a test asks (to reach the next local midnight in seconds); its timers are
/// the system's, so the services it is given keep running at their real pace.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>Moves the clock forward to <paramref name="at"/> (never back).</summary>
    public void AdvanceTo(DateTimeOffset at)
    {
        var ahead = (at - GetUtcNow()).Ticks;
        if (ahead > 0)
            Interlocked.Add(ref _offsetTicks, ahead);
    }
}
