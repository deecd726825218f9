using WapBridge.Core.Common;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Messaging;

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

    [Fact]
    public void Missing_number_says_so() =>
        Assert.Equal("missing_argument", Assert.Throws<WapBridgeException>(() => WhatsAppNumbers.Normalize(" ", "to_number")).Code);
}
