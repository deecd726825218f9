using System.Text.Json.Nodes;
using WapBridge.Core.Campaigns;

namespace WapBridge.Tests.Campaigns;

[Trait("Category", "Unit")]
public sealed class CampaignThrottleTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero); // 12:00 in Dar es Salaam (UTC+3)

    [Fact]
    public void Inside_active_hours_sending_is_allowed() =>
        Assert.Null(CampaignThrottle.NextWindow("08:00", "20:00", "Africa/Dar_es_Salaam", Noon));

    [Fact]
    public void After_hours_the_next_window_opens_tomorrow_morning_local_time()
    {
        var evening = Noon.AddHours(9); // 21:00 local
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.FromHours(3)), CampaignThrottle.NextWindow("08:00", "20:00", "Africa/Dar_es_Salaam", evening));
    }

    [Fact]
    public void Before_hours_the_window_opens_the_same_day()
    {
        var early = Noon.AddHours(-6); // 06:00 local
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.FromHours(3)), CampaignThrottle.NextWindow("08:00", "20:00", "Africa/Dar_es_Salaam", early));
    }

    [Fact]
    public void Overnight_windows_wrap_midnight()
    {
        Assert.Null(CampaignThrottle.NextWindow("20:00", "06:00", "UTC", new DateTimeOffset(2026, 11, 27, 23, 30, 0, TimeSpan.Zero)));
        Assert.Null(CampaignThrottle.NextWindow("20:00", "06:00", "UTC", new DateTimeOffset(2026, 11, 27, 5, 59, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 20, 0, 0, TimeSpan.Zero),
            CampaignThrottle.NextWindow("20:00", "06:00", "UTC", new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Defaults_come_from_options_and_json_overrides_them()
    {
        var defaults = new CampaignOptions();
        var parsed = CampaignThrottle.Parse(null, defaults);
        Assert.Equal((10, 30), (parsed.MinDelaySeconds, parsed.MaxDelaySeconds));

        var custom = CampaignThrottle.Parse((JsonObject)JsonNode.Parse("""{"min_delay_seconds":"2","max_delay_seconds":4,"hourly_limit":100,"active_hours":{"start":"08:00","end":"20:00","timezone":"Africa/Nairobi"}}""")!, defaults);
        Assert.Equal((2d, 4d, 100), (custom.MinDelaySeconds, custom.MaxDelaySeconds, custom.HourlyLimit!.Value));
        Assert.Equal(("08:00", "20:00", "Africa/Nairobi"), (custom.ActiveFrom, custom.ActiveUntil, custom.TimeZone));
    }

    [Fact]
    public void Templates_fill_variables_and_report_missing_ones()
    {
        var values = (JsonObject)JsonNode.Parse("""{"name":"Asha","amount":1500}""")!;
        Assert.Equal("Asha owes 1500 (255757111111)", CampaignTemplate.Render("{{ name }} owes {{amount}} ({{phone_number}})", values, "255757111111").Text);
        var (text, missing) = CampaignTemplate.Render("Hi {{name}}, {{due_date}}", values, "255757111111");
        Assert.Null(text);
        Assert.Equal(["due_date"], missing);
    }
}
