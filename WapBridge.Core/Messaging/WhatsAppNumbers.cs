using System.Globalization;
using PhoneNumbers;
using WapBridge.Core.Common;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Reads the number forms integrators and ERPNext send (contract §1) and answers digits-only E.164
/// without '+': <c>+255755123456</c>, <c>255 755-123 456</c>, <c>(0755) 123456</c> with a default country,
/// <c>00255…</c>, and WhatsApp ids <c>…@c.us</c> / <c>…@s.whatsapp.net</c>. Only numbers libphonenumber holds
/// valid for their country pass: a number that merely has a plausible length would be "sent" to nobody.
/// </summary>
public static class WhatsAppNumbers
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>A group id as WhatsApp writes it: <c>&lt;digits&gt;-&lt;digits&gt;@g.us</c> (older groups) or <c>&lt;digits&gt;@g.us</c>.</summary>
    public static bool IsGroupId(string? chat) =>
        chat is not null && chat.EndsWith(GroupSuffix, StringComparison.Ordinal) && chat.Length > GroupSuffix.Length && chat.Length <= 64
        && chat[..^GroupSuffix.Length].Split('-') is { Length: 1 or 2 } parts && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit));

    public const string GroupSuffix = "@g.us";

    /// <summary>Where a message goes: a group id as it is, else a number normalised as by <see cref="Normalize"/>.</summary>
    public static string NormalizeChat(string? input, string field, string? defaultCountry = null)
    {
        var text = input?.Trim();
        if (text is not null && text.EndsWith(GroupSuffix, StringComparison.OrdinalIgnoreCase))
            return IsGroupId(text.ToLowerInvariant()) ? text.ToLowerInvariant()
                : throw Invalid(field, input!, "is not a group id; write groups as <digits>-<digits>@g.us or <digits>@g.us");
        return Normalize(input, field, defaultCountry);
    }

    public static string Normalize(string? input, string field, string? defaultCountry = null)
    {
        if (string.IsNullOrWhiteSpace(input))
            throw WapBridgeException.Missing(field);
        var text = input.Trim();
        var at = text.IndexOf('@');
        if (at >= 0)
        {
            var domain = text[(at + 1)..].ToLowerInvariant();
            if (domain is not ("c.us" or "s.whatsapp.net"))
                throw Invalid(field, input, "is not a personal chat; only …@c.us or …@s.whatsapp.net ids can be written to as a number");
            text = "+" + text[..at].Split(':')[0];
        }

        if (text.Any(char.IsLetter))
            throw Invalid(field, input, "contains letters");
        var digits = new string(text.Where(char.IsAsciiDigit).ToArray());
        if (digits.Length > 17)
            throw Invalid(field, input, "is too long for any country");

        var international = text.StartsWith('+') || digits.StartsWith("00", StringComparison.Ordinal);
        if (digits.StartsWith("00", StringComparison.Ordinal))
            digits = digits[2..];
        var region = international || string.IsNullOrEmpty(defaultCountry) ? null : defaultCountry.ToUpperInvariant();
        if (region is not null && !Util.GetSupportedRegions().Contains(region))
            region = null;

        PhoneNumber parsed;
        try
        {
            parsed = region is null ? Util.Parse("+" + digits, null) : Util.Parse(text, region);
        }
        catch (NumberParseException e)
        {
            throw Invalid(field, input, e.ErrorType switch
            {
                ErrorType.INVALID_COUNTRY_CODE when region is null && !international =>
                    "has no country code (write it as +255… or set the instance's default country)",
                ErrorType.INVALID_COUNTRY_CODE => "has an invalid country code",
                ErrorType.TOO_LONG => "is too long",
                ErrorType.TOO_SHORT_NSN or ErrorType.TOO_SHORT_AFTER_IDD => region is null ? "is too short" : $"is too short for {Country(region)}",
                _ => "is not a phone number",
            });
        }

        if (!Util.IsValidNumber(parsed))
            throw Invalid(field, input, WhyInvalid(parsed) + (region is null && !international
                ? "; without a + or a default country, a number must start with its country code (255…)" : ""));
        // WhatsApp accounts are registered by SMS or call: these numbers can never have one.
        switch (Util.GetNumberType(parsed))
        {
            case PhoneNumberType.PREMIUM_RATE:
                throw Invalid(field, input, $"is a premium-rate number of {Country(Util.GetRegionCodeForNumber(parsed))}, which cannot have WhatsApp");
            case PhoneNumberType.VOICEMAIL:
                throw Invalid(field, input, $"is a voicemail access number of {Country(Util.GetRegionCodeForNumber(parsed))}, which cannot have WhatsApp");
        }
        return Util.Format(parsed, PhoneNumberFormat.E164)[1..];
    }

    /// <summary>The reason in the user's words: too short or too long for the country, or not one of its numbers.</summary>
    private static string WhyInvalid(PhoneNumber parsed)
    {
        var region = Util.GetRegionCodeForCountryCode(parsed.CountryCode);
        if (region == "ZZ")
            return $"has an invalid country code (+{parsed.CountryCode})";
        var national = Util.GetNationalSignificantNumber(parsed);
        // libphonenumber keeps a national trunk prefix when the rest is too short to be a number; it is not a digit
        // of the number, so the length is judged without it (075520010 in Tanzania is 8 digits, one short).
        if (Util.GetMetadataForRegion(region)?.NationalPrefix is { Length: > 0 } trunk && national.StartsWith(trunk, StringComparison.Ordinal))
            national = national[trunk.Length..];
        if (national.Length == 0)
            return $"is too short for {Country(region)}";
        var candidate = new PhoneNumber.Builder().SetCountryCode(parsed.CountryCode).SetNationalNumber(ulong.Parse(national, CultureInfo.InvariantCulture)).Build();
        return Util.IsPossibleNumberWithReason(candidate) switch
        {
            PhoneNumberUtil.ValidationResult.TOO_SHORT => $"is too short for {Country(region)}",
            PhoneNumberUtil.ValidationResult.TOO_LONG => $"is too long for {Country(region)}",
            PhoneNumberUtil.ValidationResult.INVALID_LENGTH => $"has the wrong number of digits for {Country(region)}",
            _ => $"is not a valid number for {Country(region)}",
        };
    }

    /// <summary>"Tanzania (+255)": the name people know, with the code they dial.</summary>
    private static string Country(string? region)
    {
        if (region is null || region == "ZZ")
            return "its country";
        var code = Util.GetCountryCodeForRegion(region);
        string name;
        try
        {
            name = new RegionInfo(region).EnglishName;
        }
        catch (ArgumentException)
        {
            name = region;
        }
        return $"{name} (+{code})";
    }

    private static WapBridgeException Invalid(string field, string input, string why) =>
        WapBridgeException.Invalid(field, "invalid_phone_number",
            $"{field} is not a valid phone number: '{input}' {why}. Use the international form, e.g. 255755123456");
}
