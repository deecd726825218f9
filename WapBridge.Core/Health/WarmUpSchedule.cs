namespace WapBridge.Core.Health;

/// <summary>How many new contacts a number may message on a local day, by how long it has been on WapBridge.</summary>
public static class WarmUpSchedule
{
    /// <param name="warmUpStartedAt">When the number was paired on WapBridge; null for a number that counts as warmed up.</param>
    /// <param name="day">The local day asked about, in <paramref name="zone"/>.</param>
    /// <returns>The allowance, and the warm-up day it is (1 = the pairing day), null once warmed up.</returns>
    public static (int Allowance, int? WarmUpDay) AllowanceOn(DateTimeOffset? warmUpStartedAt, DateOnly day, TimeZoneInfo zone, HealthOptions options)
    {
        var schedule = options.EffectiveWarmUp;
        if (warmUpStartedAt is not { } started)
            return (options.WarmedUpDailyNewContacts, null);
        var warmUpDay = day.DayNumber - LocalDay(started, zone).DayNumber + 1;
        return warmUpDay > schedule.Length
            ? (options.WarmedUpDailyNewContacts, null)
            : (schedule[Math.Max(warmUpDay, 1) - 1], Math.Max(warmUpDay, 1));
    }

    public static DateOnly LocalDay(DateTimeOffset at, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);

    /// <summary>
    /// The instant the local day of <paramref name="day"/> begins in <paramref name="zone"/>, across DST changes, in UTC:
    /// PostgreSQL stores and compares only UTC instants (Npgsql refuses any other offset).
    /// </summary>
    public static DateTimeOffset StartOf(DateOnly day, TimeZoneInfo zone)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // Where DST skips midnight the day starts at the first local time that exists.
        while (zone.IsInvalidTime(midnight))
            midnight = midnight.AddMinutes(15);
        var offset = zone.IsAmbiguousTime(midnight) ? zone.GetAmbiguousTimeOffsets(midnight).Max() : zone.GetUtcOffset(midnight);
        return new DateTimeOffset(midnight, offset).ToUniversalTime();
    }

    /// <summary>When the budget of the day containing <paramref name="now"/> resets: the next local midnight.</summary>
    public static DateTimeOffset NextReset(DateTimeOffset now, TimeZoneInfo zone) => StartOf(LocalDay(now, zone).AddDays(1), zone);
}
