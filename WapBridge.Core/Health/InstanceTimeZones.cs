using PhoneNumbers;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Health;

/// <summary>
/// The zone an instance's days run in (contract §6 <c>timezone</c>): its own setting, else the main zone of its
/// connected number, else of its default country, else UTC. The budget resets at midnight there.
/// </summary>
public static class InstanceTimeZones
{
    public static TimeZoneInfo Of(Instance instance) => Of(instance.TimeZone, instance.PhoneNumber, instance.DefaultCountry);

    public static TimeZoneInfo Of(string? timeZone, string? phoneNumber, string? defaultCountry)
    {
        if (timeZone is not null && TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var own))
            return own;
        return MainZone(phoneNumber, defaultCountry) is { } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var main) ? main : TimeZoneInfo.Utc;
    }

    /// <summary>The first zone libphonenumber gives for the number (or for the country's example number); null when it knows none.</summary>
    public static string? MainZone(string? phoneNumber, string? defaultCountry)
    {
        var util = PhoneNumberUtil.GetInstance();
        PhoneNumber? number = null;
        try
        {
            if (phoneNumber is not null)
                number = util.Parse("+" + phoneNumber, null);
        }
        catch (NumberParseException)
        {
        }
        number ??= defaultCountry is null ? null : util.GetExampleNumberForType(defaultCountry, PhoneNumberType.MOBILE);
        if (number is null)
            return null;
        var mapper = PhoneNumberToTimeZonesMapper.GetInstance();
        return mapper.GetTimeZonesForNumber(number).FirstOrDefault(z => z != mapper.GetUnknownTimeZone());
    }

    /// <summary>A zone id the user typed, checked: null when empty; a 417 naming <paramref name="field"/> when unknown.</summary>
    public static string? Validate(string? timeZone, string field)
    {
        if (string.IsNullOrWhiteSpace(timeZone))
            return null;
        timeZone = timeZone.Trim();
        return TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone) && zone.HasIanaId
            ? timeZone
            : throw Common.WapBridgeException.Invalid(field, "invalid_timezone", $"{field} '{timeZone}' is not a time zone such as Africa/Dar_es_Salaam");
    }
}
