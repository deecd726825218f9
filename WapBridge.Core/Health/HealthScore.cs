using System.Globalization;

namespace WapBridge.Core.Health;

/// <summary>
/// One row of the published table (README "Account health"): when <see cref="Applies"/> holds, the score loses
/// <see cref="Penalty"/> and the level is at least <see cref="Level"/>.
/// </summary>
/// <param name="Code">The reason's stable code; a signal with two rows (watch, danger) shares it and only the worse row counts.</param>
/// <param name="Signal">What is measured, in the table's words.</param>
/// <param name="Threshold">When the row applies, in the table's words (built from the same numbers the check uses).</param>
public sealed record HealthRule(string Code, string Signal, string Threshold, int Penalty, string Level,
    Func<HealthSignals, bool> Applies, Func<HealthSignals, string> Message);

/// <summary>
/// Judges an instance's <see cref="HealthSignals"/> (contract §12): a score of 100 minus the penalties of the rows of
/// <see cref="Rules"/> that apply, and the worst level among them (good when none does). Pure: no clock, no database.
/// </summary>
public static class HealthScore
{
    /// <summary>Rates are judged only over at least this many sends or contacts: 2 failures of 3 sends are chance, not a pattern.</summary>
    public const int MinSample = 20;

    private static readonly string[] Order = [HealthLevels.Good, HealthLevels.Watch, HealthLevels.Danger, HealthLevels.Restricted];

    /// <summary>The published table, worse rows of a signal before its milder one.</summary>
    public static readonly IReadOnlyList<HealthRule> Rules =
    [
        new("account_banned", "WhatsApp logged the number out with 406 (banned)", "now", 100, HealthLevels.Restricted,
            s => s.BannedOut,
            _ => "WhatsApp banned this number and logged it out (406). Stop all sending from it; appeal from the WhatsApp app on the phone, and pair again only once WhatsApp lifted the ban."),
        new("account_locked", "WhatsApp logged the number out with 403 (locked)", "now", 100, HealthLevels.Restricted,
            s => s.LockedOut,
            _ => "WhatsApp locked this account and logged it out (403). Open WhatsApp on the phone and follow its steps to unlock it, then pair again; send less to new contacts afterwards."),
        new("banned", "Temporary ban (402)", "now", 80, HealthLevels.Restricted,
            s => s.BannedUntil is not null,
            s => $"WhatsApp banned this number temporarily until {When(s.BannedUntil)}. It reconnects by itself then; do not pair it elsewhere meanwhile, and send far less to new contacts afterwards."),
        new("restricted", "Restriction of messages to new contacts (463)", "now", 50, HealthLevels.Restricted,
            s => s.RestrictedUntil is not null,
            s => $"WhatsApp restricts this number from messaging new contacts until {When(s.RestrictedUntil)}. Sends to new contacts wait until then; replies to people who wrote first still go out. Sending earlier can deepen the restriction."),
        new("recently_restricted", "A restriction, ban or lock that is over", "in the window", 25, HealthLevels.Watch,
            s => s.RecentlyRestricted && s.RestrictionEnds is null && !s.LockedOut && !s.BannedOut,
            s => $"WhatsApp restricted, banned or locked this number in the last {Days(s.Window)}. It is watched closely now: keep first messages to new contacts few and wanted."),
        Rate("blocked", "Sends refused because the recipient blocked the number", s => (s.Blocked, s.Sends), 3, "sends", 35, HealthLevels.Danger,
            "blocked this number. Many blocks are how WhatsApp learns a number sends unwanted messages: stop bulk sends and message only people who asked for it."),
        Rate("blocked", "Sends refused because the recipient blocked the number", s => (s.Blocked, s.Sends), 1, "sends", 15, HealthLevels.Watch,
            "blocked this number. Send only to people who expect your messages, and let them opt out."),
        Rate("failed_sends", "Sends WhatsApp refused (other reasons)", s => (s.FailedSends, s.Sends), 25, "sends", 30, HealthLevels.Danger,
            "were refused by WhatsApp. Look at the failed messages' errors and fix their cause before sending more."),
        Rate("failed_sends", "Sends WhatsApp refused (other reasons)", s => (s.FailedSends, s.Sends), 10, "sends", 10, HealthLevels.Watch,
            "were refused by WhatsApp. Look at the failed messages' errors."),
        Rate("not_on_whatsapp", "Sends to numbers not on WhatsApp", s => (s.NotOnWhatsApp, s.Sends), 15, "sends", 25, HealthLevels.Danger,
            "went to numbers that are not on WhatsApp: the list is old or wrong. Clean it, or use check_numbers_first, before sending more."),
        Rate("not_on_whatsapp", "Sends to numbers not on WhatsApp", s => (s.NotOnWhatsApp, s.Sends), 5, "sends", 10, HealthLevels.Watch,
            "went to numbers that are not on WhatsApp. Check your lists (check_numbers_first does it for campaigns)."),
        Rate("opt_outs", "Contacts who replied STOP (opted out)", s => (s.OptOuts, s.ContactsMessaged), 5, "contacts messaged", 25, HealthLevels.Danger,
            "opted out. Recipients do not want these messages: send to fewer, better-chosen people, less often."),
        Rate("opt_outs", "Contacts who replied STOP (opted out)", s => (s.OptOuts, s.ContactsMessaged), 2, "contacts messaged", 10, HealthLevels.Watch,
            "opted out. Make sure recipients asked for your messages."),
        LowReplies(10, 25, HealthLevels.Danger,
            "Numbers that message many strangers who never answer are the ones WhatsApp bans: pause first messages to new contacts and make them personal and wanted."),
        LowReplies(30, 10, HealthLevels.Watch,
            "Make first messages personal and send them to people who expect them."),
    ];

    public static (int Score, string Level, IReadOnlyList<HealthReason> Reasons) Evaluate(HealthSignals signals)
    {
        var applied = Rules.Where(r => r.Applies(signals)).DistinctBy(r => r.Code).ToList();
        var score = Math.Clamp(100 - applied.Sum(r => r.Penalty), 0, 100);
        var level = applied.Select(r => r.Level).DefaultIfEmpty(HealthLevels.Good).MaxBy(l => Array.IndexOf(Order, l))!;
        return (score, level, applied.Select(r => new HealthReason(r.Code, r.Message(signals))).ToList());
    }

    // Percentages are whole numbers compared in integers: 3 of 20 is exactly 15%, which 0.15 * 20 in doubles is not.
    private static HealthRule Rate(string code, string signal, Func<HealthSignals, (int Hits, int Of)> measure, int atLeastPercent, string of, int penalty,
        string level, string advice) =>
        new(code, signal, $"≥ {atLeastPercent}% of ≥ {MinSample} {of}", penalty, level,
            s =>
            {
                var (hits, total) = measure(s);
                return total >= MinSample && hits * 100L >= atLeastPercent * (long)total;
            },
            s =>
            {
                var (hits, total) = measure(s);
                return $"{hits} of {total} {of} in the last {Days(s.Window)} ({Percent((double)hits / total)}) {advice}";
            });

    private static HealthRule LowReplies(int atMostPercent, int penalty, string level, string advice) =>
        new("low_reply_rate", $"New contacts who answered a first message (after {HealthSignalReader.ReplyWait.TotalHours:0} hours)",
            $"≤ {atMostPercent}% of ≥ {MinSample} new contacts", penalty, level,
            s => s.FirstMessages >= MinSample && s.Replied * 100L <= atMostPercent * (long)s.FirstMessages,
            s => $"Only {s.Replied} of {s.FirstMessages} new contacts messaged in the last {Days(s.Window)} answered ({Percent((double)s.Replied / s.FirstMessages)}). {advice}");

    private static string Percent(double rate) => (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Days(TimeSpan window) => window.TotalDays switch
    {
        1 => "day",
        >= 1 => $"{window.TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} days",
        _ => $"{window.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} hours",
    };

    private static string When(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
}
