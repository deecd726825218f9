using PhoneNumbers;
using WapBridge.Core.Common;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Reads the number forms integrators and ERPNext send (contract §1) and answers digits-only E.164
/// without '+': <c>+255755123456</c>, <c>255 755-123 456</c>, <c>(0755) 123456</c> with a default country,
/// <c>00255…</c>, and WhatsApp ids <c>…@c.us</c> / <c>…@s.whatsapp.net</c>.
/// </summary>
public static class WhatsAppNumbers
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

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
                throw Invalid(field, input, "only personal chats (@c.us or @s.whatsapp.net) can be written to as a number");
            text = "+" + text[..at].Split(':')[0];
        }

        if (text.Any(char.IsLetter))
            throw Invalid(field, input, "it contains letters");
        var digits = new string(text.Where(char.IsAsciiDigit).ToArray());
        if (digits.Length < 6)
            throw Invalid(field, input, "it is too short");
        if (digits.Length > 17)
            throw Invalid(field, input, "it is too long");

        var international = text.StartsWith('+') || digits.StartsWith("00", StringComparison.Ordinal);
        if (digits.StartsWith("00", StringComparison.Ordinal))
            digits = digits[2..];

        PhoneNumber parsed;
        try
        {
            parsed = international || string.IsNullOrEmpty(defaultCountry)
                ? Util.Parse("+" + digits, null)
                : Util.Parse(text, defaultCountry.ToUpperInvariant());
        }
        catch (NumberParseException e)
        {
            throw Invalid(field, input, e.ErrorType == ErrorType.INVALID_COUNTRY_CODE
                ? "the country code is missing or unknown (write it as +255… or set the instance's default country)"
                : e.Message);
        }

        if (!Util.IsPossibleNumber(parsed))
            throw Invalid(field, input, "it is not a possible number for its country");
        return Util.Format(parsed, PhoneNumberFormat.E164)[1..];
    }

    private static WapBridgeException Invalid(string field, string input, string why) =>
        WapBridgeException.Invalid(field, "invalid_phone_number",
            $"{field} is not a valid phone number: '{input}' ({why}). Use the international form, e.g. 255755123456");
}
