using WapBridge.Core.Common;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Messaging;

[Trait("Category", "Unit")]
public sealed class WhatsAppNumbersTests
{
    [Theory]
    [InlineData("+255755123456", null, "255755123456")]
    [InlineData("255755123456", null, "255755123456")]
    [InlineData("255 755-123 456", null, "255755123456")]
    [InlineData("(0755) 123456", "TZ", "255755123456")]
    [InlineData("0755123456", "TZ", "255755123456")]
    [InlineData("255755123456", "TZ", "255755123456")]
    [InlineData("00255755123456", "KE", "255755123456")]
    [InlineData("255755123456@c.us", null, "255755123456")]
    [InlineData("255755123456@s.whatsapp.net", null, "255755123456")]
    [InlineData("+1 (415) 555-2671", "TZ", "14155552671")]
    [InlineData("0712 345678", "KE", "254712345678")]
    [InlineData("0755200100", "TZ", "255755200100")]
    [InlineData("+255 0755 200100", "TZ", "255755200100")]
    public void Accepted_forms_normalise_to_digits_only_e164(string input, string? country, string expected) =>
        Assert.Equal(expected, WhatsAppNumbers.Normalize(input, "to_number", country));

    [Theory]
    [InlineData("12345")]
    [InlineData("2557551234ab")]
    [InlineData("0755123456")]
    [InlineData("+999123456789")]
    [InlineData("120363025246125486@g.us")]
    [InlineData("+2551")]
    public void Impossible_numbers_are_rejected_naming_the_field(string input)
    {
        var error = Assert.Throws<WapBridgeException>(() => WhatsAppNumbers.Normalize(input, "to_number"));
        Assert.Equal("to_number", error.Field);
        Assert.Equal("invalid_phone_number", error.Code);
    }

    [Theory]
    [InlineData("075520010", "TZ", "is too short for Tanzania (+255)")]
    [InlineData("+25575520010", null, "is too short for Tanzania (+255)")]
    [InlineData("07552001000", "TZ", "is too long for Tanzania (+255)")]
    [InlineData("255755200100999", null, "is too long for Tanzania (+255)")]
    [InlineData("+255 555 200100", "TZ", "is not a valid number for Tanzania (+255)")]
    [InlineData("+999123456789", null, "has an invalid country code")]
    [InlineData("755200100", null, "is too short for Russia (+7); without a + or a default country, a number must start with its country code")]
    public void Impossible_numbers_name_the_reason(string input, string? country, string reason)
    {
        var error = Assert.Throws<WapBridgeException>(() => WhatsAppNumbers.Normalize(input, "to_number", country));
        Assert.Equal("to_number", error.Field);
        Assert.Contains($"'{input}' {reason}", error.Message);
    }

    [Fact]
    public void Missing_number_says_so() =>
        Assert.Equal("missing_argument", Assert.Throws<WapBridgeException>(() => WhatsAppNumbers.Normalize(" ", "to_number")).Code);
}
