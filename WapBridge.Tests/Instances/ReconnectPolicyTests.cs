using WapBridge.Core.Engines;
using WapBridge.Core.Instances;

namespace WapBridge.Tests.Instances;

/// <summary>When an instance whose connection dropped tries again, and how a failed event commit is spaced.</summary>
[Trait("Category", "Unit")]
public sealed class ReconnectPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    private static DisconnectedEvent Dropped(bool transient = true, DateTimeOffset? bannedUntil = null) =>
        new("INST-01-0000001", Now, "connection closed", transient) { BannedUntil = bannedUntil };

    [Fact]
    public void A_transient_drop_backs_off_1_2_5_10_30_60_seconds_then_stays_at_60()
    {
        var waits = Enumerable.Range(0, 9).Select(attempts => ReconnectPolicy.WaitAfter(Dropped(), attempts, Now)!.Value.TotalSeconds);
        Assert.Equal([1, 2, 5, 10, 30, 60, 60, 60, 60], waits);
    }

    [Fact]
    public void A_close_that_does_not_say_try_again_schedules_no_attempt() =>
        Assert.Null(ReconnectPolicy.WaitAfter(Dropped(transient: false), 0, Now));

    [Fact]
    public void A_ban_waits_until_its_end_whatever_the_attempts_so_far()
    {
        Assert.Equal(TimeSpan.FromHours(3), ReconnectPolicy.WaitAfter(Dropped(transient: false, bannedUntil: Now.AddHours(3)), 0, Now));
        Assert.Equal(TimeSpan.FromHours(3), ReconnectPolicy.WaitAfter(Dropped(transient: true, bannedUntil: Now.AddHours(3)), 4, Now));
    }

    [Fact]
    public void A_ban_already_over_tries_at_once() =>
        Assert.Equal(TimeSpan.Zero, ReconnectPolicy.WaitAfter(Dropped(transient: false, bannedUntil: Now.AddMinutes(-5)), 2, Now));

    [Fact]
    public void A_close_code_policy_decision_maps_to_its_wait()
    {
        // What an engine reports for a 402 (ban for the given seconds) and for an ordinary close ("reconnecting").
        var ban = CloseCodePolicy.Decide(402, expireSeconds: 600);
        var banned = new DisconnectedEvent("INST-01-0000001", Now, ban.Reason, ban.Reconnect) { BannedUntil = Now + ban.BannedFor };
        Assert.Equal(TimeSpan.FromMinutes(10), ReconnectPolicy.WaitAfter(banned, 0, Now));
        var closed = CloseCodePolicy.Decide(428, "connectionClosed");
        Assert.Equal(TimeSpan.FromSeconds(1), ReconnectPolicy.WaitAfter(new DisconnectedEvent("INST-01-0000001", Now, closed.Reason, closed.Reconnect), 0, Now));
        var conflict = CloseCodePolicy.Decide(440);
        Assert.Null(ReconnectPolicy.WaitAfter(new DisconnectedEvent("INST-01-0000001", Now, conflict.Reason, conflict.Reconnect), 0, Now));
    }

    [Fact]
    public void A_wait_longer_than_one_timer_takes_is_waited_out_in_24_day_steps()
    {
        Assert.Equal(TimeSpan.FromDays(24), ReconnectPolicy.TimerWait(TimeSpan.FromDays(60)));
        Assert.Equal(TimeSpan.FromDays(3), ReconnectPolicy.TimerWait(TimeSpan.FromDays(3)));
        Assert.Equal(TimeSpan.Zero, ReconnectPolicy.TimerWait(TimeSpan.Zero));
        // Task.Delay refuses anything over ~24.8 days.
        Assert.True(ReconnectPolicy.MaxTimerWait.TotalMilliseconds < uint.MaxValue - 1);
    }

    [Fact]
    public void A_failed_event_commit_is_retried_after_half_a_second_then_backs_off_to_30_seconds()
    {
        var delays = Enumerable.Range(1, 8).Select(attempt => EngineEventProcessor.CommitRetryDelay(attempt).TotalSeconds);
        Assert.Equal([0.5, 1, 2, 5, 10, 30, 30, 30], delays);
    }
}
