namespace WapBridge.Web.Components.Shared;

/// <summary>The IANA zones an autocomplete offers (<c>Africa/Dar_es_Salaam</c>, …, and UTC), matching what was typed.</summary>
public static class TimeZoneSearch
{
    public static Task<IEnumerable<string>> SearchAsync(string? text, CancellationToken ct)
    {
        var zones = TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).Where(id => id.Contains('/') || id == "UTC");
        if (!string.IsNullOrWhiteSpace(text))
            zones = zones.Where(id => id.Contains(text.Trim().Replace(' ', '_'), StringComparison.OrdinalIgnoreCase));
        return Task.FromResult<IEnumerable<string>>(zones.Order(StringComparer.Ordinal).ToList());
    }
}
