using System.Globalization;
using System.Text.Json.Nodes;
using WapBridge.Core.Common;

namespace WapBridge.Core.Campaigns;

/// <summary>Spacing, caps and active hours of one campaign (contract §3 <c>throttle</c>).</summary>
public sealed record CampaignThrottle(double MinDelaySeconds, double MaxDelaySeconds, int? HourlyLimit, int? DailyLimit,
    string? ActiveFrom, string? ActiveUntil, string? TimeZone)
{
    /// <summary>The longest spacing between two sends: a day (a campaign that waits longer should be scheduled).</summary>
    public const double MaxDelayAllowed = 86_400;

    /// <summary>The largest hourly or daily cap: far above what one number can send, and far from overflowing an int.</summary>
    public const int MaxLimitAllowed = 10_000_000;

    /// <summary>
    /// No spacing and no cap: the runner sends in batches as fast as the outbox goes. Fine for the simulator and load
    /// tests; on a real number it is the pattern WhatsApp bans fastest, so it needs an Admin's per-customer consent.
    /// </summary>
    public bool Unthrottled => IsUnthrottled(MaxDelaySeconds, HourlyLimit, DailyLimit);

    /// <summary>The same test for a stored campaign (the runner batches such a campaign).</summary>
    public static bool IsUnthrottled(double maxDelaySeconds, int? hourlyLimit, int? dailyLimit) =>
        maxDelaySeconds <= 0 && hourlyLimit is null && dailyLimit is null;

    public static CampaignThrottle Parse(JsonObject? json, CampaignOptions defaults)
    {
        double Number(string name, double fallback, double most)
        {
            var node = json?[name];
            if (node is null) return fallback;
            var field = $"throttle.{name}";
            // ToJsonString, not GetValue<double>: a node built from an int refuses to be read as a double.
            var text = node.GetValueKind() == System.Text.Json.JsonValueKind.Number ? node.ToJsonString()
                : node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>()
                : throw WapBridgeException.Invalid(field, "invalid_type", $"{field} must be a number");
            // NaN, Infinity and 1e308 parse as doubles, and the runner cannot wait that long: refuse them here.
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw WapBridgeException.Invalid(field, "invalid_type", $"{field} must be a finite number");
            return v < 0 || v > most
                ? throw WapBridgeException.Invalid(field, "out_of_range", $"{field} must be between 0 and {most.ToString(CultureInfo.InvariantCulture)}")
                : v;
        }
        int? Limit(string name, int? fallback)
        {
            if (json?[name] is null) return fallback;
            var v = Number(name, 0, MaxLimitAllowed);
            return v < 1 || v != Math.Floor(v) ? throw WapBridgeException.Invalid($"throttle.{name}", "out_of_range", $"throttle.{name} must be a whole number of at least 1") : (int)v;
        }

        var min = Number("min_delay_seconds", defaults.MinDelaySeconds, MaxDelayAllowed);
        var max = Number("max_delay_seconds", Math.Max(defaults.MaxDelaySeconds, min), MaxDelayAllowed);
        if (max < min) throw WapBridgeException.Invalid("throttle.max_delay_seconds", "out_of_range", "throttle.max_delay_seconds must be at least min_delay_seconds");

        string? from = null, until = null, zone = null;
        if (json?["active_hours"] is JsonObject hours)
        {
            from = Time(hours["start"]?.ToString(), "throttle.active_hours.start");
            until = Time(hours["end"]?.ToString(), "throttle.active_hours.end");
            zone = hours["timezone"]?.ToString() ?? "UTC";
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
                throw WapBridgeException.Invalid("throttle.active_hours.timezone", "invalid_timezone", $"throttle.active_hours.timezone '{zone}' is not a time zone such as Africa/Dar_es_Salaam");
        }
        return new CampaignThrottle(min, max, Limit("hourly_limit", defaults.HourlyLimit), Limit("daily_limit", defaults.DailyLimit), from, until, zone);
    }

    private static string Time(string? value, string field) =>
        TimeOnly.TryParseExact(value, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? t.ToString("HH:mm", CultureInfo.InvariantCulture)
            : throw WapBridgeException.Invalid(field, "invalid_time", $"{field} must be a time like 08:00");

    /// <summary>Null when sending is allowed at <paramref name="now"/>; otherwise when the next window opens.</summary>
    public static DateTimeOffset? NextWindow(string? from, string? until, string? zone, DateTimeOffset now)
    {
        if (from is null || until is null)
            return null;
        var tz = TimeZoneInfo.FindSystemTimeZoneById(zone ?? "UTC");
        var local = TimeZoneInfo.ConvertTime(now, tz);
        var start = TimeOnly.ParseExact(from, "HH:mm", CultureInfo.InvariantCulture);
        var end = TimeOnly.ParseExact(until, "HH:mm", CultureInfo.InvariantCulture);
        var time = TimeOnly.FromDateTime(local.DateTime);
        var inside = start <= end ? time >= start && time < end : time >= start || time < end;
        if (inside)
            return null;
        var day = DateOnly.FromDateTime(local.DateTime);
        // Past today's end of a daytime window: the next one opens tomorrow. (Outside an overnight window, it opens today.)
        if (start <= end && time >= end)
            day = day.AddDays(1);
        var opensLocal = day.ToDateTime(start);
        return new DateTimeOffset(opensLocal, tz.GetUtcOffset(opensLocal));
    }
}
