using System.Globalization;
using System.Text.Json.Nodes;
using WapBridge.Core.Common;

namespace WapBridge.Core.Campaigns;

/// <summary>Spacing, caps and active hours of one campaign (contract §3 <c>throttle</c>).</summary>
public sealed record CampaignThrottle(double MinDelaySeconds, double MaxDelaySeconds, int? HourlyLimit, int? DailyLimit,
    string? ActiveFrom, string? ActiveUntil, string? TimeZone)
{
    public static CampaignThrottle Parse(JsonObject? json, CampaignOptions defaults)
    {
        double Number(string name, double fallback)
        {
            var node = json?[name];
            if (node is null) return fallback;
            // ToJsonString, not GetValue<double>: a node built from an int refuses to be read as a double.
            return node.GetValueKind() == System.Text.Json.JsonValueKind.Number
                ? double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture)
                : double.TryParse(node.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v : throw WapBridgeException.Invalid($"throttle.{name}", "invalid_type", $"throttle.{name} must be a number");
        }
        int? Limit(string name, int? fallback)
        {
            if (json?[name] is null) return fallback;
            var v = Number(name, 0);
            return v < 1 || v != Math.Floor(v) ? throw WapBridgeException.Invalid($"throttle.{name}", "out_of_range", $"throttle.{name} must be a whole number of at least 1") : (int)v;
        }

        var min = Number("min_delay_seconds", defaults.MinDelaySeconds);
        var max = Number("max_delay_seconds", Math.Max(defaults.MaxDelaySeconds, min));
        if (min < 0) throw WapBridgeException.Invalid("throttle.min_delay_seconds", "out_of_range", "throttle.min_delay_seconds must be 0 or more");
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
