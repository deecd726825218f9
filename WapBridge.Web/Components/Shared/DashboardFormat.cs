using System.Globalization;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Components.Shared;

/// <summary>How the dashboard prints times and sizes: UTC, invariant, sortable.</summary>
public static class DashboardFormat
{
    public static string Time(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? at, string none = "—") => at is { } value ? Time(value) : none;

    /// <summary>To the minute, for what is hours or days away (a restriction's end, a creation date).</summary>
    public static string Minute(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The time of day when <paramref name="at"/> is today (seconds to minutes away), else <see cref="Minute"/>.</summary>
    public static string Soon(DateTimeOffset at, DateTimeOffset now) =>
        at.UtcDateTime.Date == now.UtcDateTime.Date ? at.UtcDateTime.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : Minute(at);

    public static string Size(long? bytes) => bytes switch
    {
        null => "—",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes.Value / 1024d).ToString("0.#", CultureInfo.InvariantCulture) + " KB",
        _ => (bytes.Value / (1024d * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " MB",
    };

    /// <summary>The first <paramref name="max"/> characters, on one line.</summary>
    public static string Excerpt(string? text, int max = 80)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var flat = string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return flat.Length <= max ? flat : flat[..max] + "…";
    }

    /// <summary>An instance in a picker: name, code, number and state, so the owner picks the connected one.</summary>
    public static string InstanceLabel(InstanceDetails i) =>
        $"{i.Name} · {i.InstanceId}{(i.PhoneNumber is null ? "" : " · +" + i.PhoneNumber)} ({i.Status.ToWire()}{(i.IsSimulator ? ", simulator" : "")})";
}
