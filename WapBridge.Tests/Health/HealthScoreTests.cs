using WapBridge.Core.Health;

namespace WapBridge.Tests.Health;

/// <summary>Each row of the published table, alone and together, with the minimum samples that keep chance from counting.</summary>
public sealed class HealthScoreTests
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);
    private static readonly DateTimeOffset Later = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, HealthSignals, string, string, int> OneRule() => new()
    {
        { "406 logout", new HealthSignals(Week, BannedOut: true), "account_banned", "restricted", 0 },
        { "403 logout", new HealthSignals(Week, LockedOut: true), "account_locked", "restricted", 0 },
        { "402 ban", new HealthSignals(Week, BannedUntil: Later), "banned", "restricted", 20 },
        { "463", new HealthSignals(Week, RestrictedUntil: Later), "restricted", "restricted", 50 },
        { "over", new HealthSignals(Week, RecentlyRestricted: true), "recently_restricted", "watch", 75 },
        { "blocks 3%", new HealthSignals(Week, Sends: 100, Blocked: 3), "blocked", "danger", 65 },
        { "blocks 1%", new HealthSignals(Week, Sends: 100, Blocked: 1), "blocked", "watch", 85 },
        { "failures 25%", new HealthSignals(Week, Sends: 40, FailedSends: 10), "failed_sends", "danger", 70 },
        { "failures 10%", new HealthSignals(Week, Sends: 40, FailedSends: 4), "failed_sends", "watch", 90 },
        { "not on WhatsApp 15%", new HealthSignals(Week, Sends: 20, NotOnWhatsApp: 3), "not_on_whatsapp", "danger", 75 },
        { "not on WhatsApp 5%", new HealthSignals(Week, Sends: 20, NotOnWhatsApp: 1), "not_on_whatsapp", "watch", 90 },
        { "STOP 5%", new HealthSignals(Week, ContactsMessaged: 20, OptOuts: 1), "opt_outs", "danger", 75 },
        { "STOP 2%", new HealthSignals(Week, ContactsMessaged: 50, OptOuts: 1), "opt_outs", "watch", 90 },
        { "replies 10%", new HealthSignals(Week, FirstMessages: 30, Replied: 3), "low_reply_rate", "danger", 75 },
        { "replies 30%", new HealthSignals(Week, FirstMessages: 30, Replied: 9), "low_reply_rate", "watch", 90 },
    };

    [Theory]
    [MemberData(nameof(OneRule))]
    public void Each_row_gives_its_reason_level_and_penalty(string label, HealthSignals signals, string code, string level, int score)
    {
        var (actualScore, actualLevel, reasons) = HealthScore.Evaluate(signals);
        Assert.True((score, level) == (actualScore, actualLevel), $"{label}: expected {score}/{level}, got {actualScore}/{actualLevel}");
        var reason = Assert.Single(reasons);
        Assert.Equal(code, reason.Code);
        Assert.False(string.IsNullOrWhiteSpace(reason.Message));
    }

    [Fact]
    public void Quiet_or_healthy_traffic_is_good_with_100()
    {
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week)));
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, Sends: 500, FailedSends: 10, NotOnWhatsApp: 5, Blocked: 2, FirstMessages: 100, Replied: 60,
            ContactsMessaged: 400, OptOuts: 3)));
    }

    [Fact]
    public void Below_the_minimum_sample_a_bad_rate_is_chance_not_a_signal()
    {
        var few = HealthScore.MinSample - 1;
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, Sends: 3, FailedSends: 2)));
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, Sends: few, FailedSends: few, NotOnWhatsApp: 0, Blocked: 0)));
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, Sends: few, Blocked: 5)));
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, FirstMessages: few, Replied: 0)));
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, ContactsMessaged: few, OptOuts: 5)));
        // Just at the sample and the threshold it counts.
        Assert.Equal("danger", Judge(new HealthSignals(Week, Sends: HealthScore.MinSample, FailedSends: 5)).Level);
    }

    [Fact]
    public void Just_below_a_threshold_the_milder_row_applies_and_only_the_worse_row_of_a_signal_counts()
    {
        Assert.Equal((90, "watch", 1), Judge(new HealthSignals(Week, Sends: 1000, FailedSends: 249)));
        Assert.Equal((70, "danger", 1), Judge(new HealthSignals(Week, Sends: 1000, FailedSends: 250)));
        Assert.Equal((100, "good", 0), Judge(new HealthSignals(Week, FirstMessages: 100, Replied: 31)));
    }

    [Fact]
    public void Penalties_add_up_the_worst_level_wins_and_the_score_stops_at_zero()
    {
        var several = new HealthSignals(Week, Sends: 100, FailedSends: 10, NotOnWhatsApp: 5, Blocked: 3);
        var (score, level, reasons) = HealthScore.Evaluate(several);
        Assert.Equal((100 - 35 - 10 - 10, "danger"), (score, level));
        Assert.Equal(["blocked", "failed_sends", "not_on_whatsapp"], reasons.Select(r => r.Code));

        var everything = several with { RestrictedUntil = Later, FirstMessages = 50, Replied = 0, ContactsMessaged = 100, OptOuts = 10 };
        Assert.Equal((0, "restricted"), (HealthScore.Evaluate(everything).Score, HealthScore.Evaluate(everything).Level));
    }

    [Fact]
    public void A_restriction_in_force_is_restricted_however_good_the_rest_and_an_over_one_is_not_counted_twice()
    {
        var restricted = new HealthSignals(Week, RestrictedUntil: Later, RecentlyRestricted: true, Sends: 500, FirstMessages: 100, Replied: 80);
        var (_, level, reasons) = HealthScore.Evaluate(restricted);
        Assert.Equal("restricted", level);
        Assert.Equal(["restricted"], reasons.Select(r => r.Code));
        Assert.Equal(Later, restricted.RestrictionEnds);
        Assert.Equal(Later.AddDays(1), (restricted with { BannedUntil = Later.AddDays(1) }).RestrictionEnds);
    }

    [Fact]
    public void Messages_say_what_was_seen_and_what_to_do()
    {
        var reasons = HealthScore.Evaluate(new HealthSignals(Week, Sends: 40, FailedSends: 10, FirstMessages: 20, Replied: 1, RestrictedUntil: Later)).Reasons;
        Assert.Contains("until 2026-12-03 09:00 UTC", reasons.Single(r => r.Code == "restricted").Message);
        Assert.StartsWith("10 of 40 sends in the last 7 days (25%)", reasons.Single(r => r.Code == "failed_sends").Message);
        Assert.StartsWith("Only 1 of 20 new contacts messaged in the last 7 days answered (5%).", reasons.Single(r => r.Code == "low_reply_rate").Message);
        Assert.Contains("in the last day.", HealthScore.Evaluate(new HealthSignals(TimeSpan.FromDays(1), RecentlyRestricted: true)).Reasons.Single().Message);
    }

    private static (int Score, string Level, int Reasons) Judge(HealthSignals signals)
    {
        var (score, level, reasons) = HealthScore.Evaluate(signals);
        return (score, level, reasons.Count);
    }
}
