using Bunit;
using MudBlazor.Services;
using WapBridge.Core.Overview;
using WapBridge.Web.Components.Pages.Overview;

namespace WapBridge.Tests.Dashboard;

/// <summary>The Overview's hourly charts with known figures: the bars drawn, and the same numbers as text for screen readers.</summary>
public sealed class OverviewChartTests : IAsyncDisposable
{
    private static readonly DateTimeOffset From = new(2026, 12, 4, 15, 0, 0, TimeSpan.Zero);

    private readonly BunitContext ctx = new();

    public OverviewChartTests()
    {
        ctx.Services.AddMudServices();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public ValueTask DisposeAsync() => ctx.DisposeAsync();

    /// <summary>24 hours, all empty but the ones given: (hour index, figures).</summary>
    private static List<HourFigures> Hours(params (int Index, int Pending, int Sent, int Delivered, int Read, int Failed, int Inbound)[] set)
    {
        var hours = Enumerable.Range(0, 24).Select(h => new HourFigures(From.AddHours(h), 0, 0, 0, 0, 0, 0)).ToList();
        foreach (var s in set)
            hours[s.Index] = new HourFigures(From.AddHours(s.Index), s.Pending, s.Sent, s.Delivered, s.Read, s.Failed, s.Inbound);
        return hours;
    }

    [Fact]
    public void Sent_messages_are_stacked_by_status_with_a_caption_and_a_table_of_every_hour()
    {
        var hours = Hours((0, 0, 1, 0, 0, 0, 0), (22, 0, 0, 3, 1, 0, 0), (23, 2, 1, 4, 2, 1, 5));

        var cut = ctx.Render<MessagesPerHourChart>(p => p.Add(c => c.Hours, hours));

        var figure = cut.Find("figure[data-testid=messages-per-hour]");
        Assert.Equal("15", figure.GetAttribute("data-total"));
        Assert.Equal("Sent messages per hour", cut.Find("figcaption h2").TextContent);
        Assert.Equal("15 in the last 24 hours: queued 2, sent 2, delivered 7, read 3, failed 1; busiest hour 14:00 UTC with 10.",
            cut.Find("[data-testid=chart-summary]").TextContent);

        // The picture: MudBlazor's stacked bars, one path per non-zero value, hidden from screen readers.
        var picture = cut.Find(".wb-hourly-chart-picture");
        Assert.Equal("true", picture.GetAttribute("aria-hidden"));
        Assert.NotNull(picture.QuerySelector("svg"));
        Assert.Equal(["Queued", "Sent", "Delivered", "Read", "Failed"], cut.FindAll(".mud-chart-legend-item").Select(l => l.TextContent.Trim()));

        // The text alternative: every hour, every series.
        var table = cut.Find("table[data-testid=chart-table]");
        Assert.Contains("wb-sr-only", table.ClassList);
        Assert.Equal(["Hour (UTC)", "Queued", "Sent", "Delivered", "Read", "Failed"], table.QuerySelectorAll("thead th").Select(th => th.TextContent));
        var rows = cut.FindAll("[data-testid=chart-row]");
        Assert.Equal(24, rows.Count);
        Assert.Equal("15:00", rows[0].GetAttribute("data-hour"));
        Assert.Equal(["1"], rows[0].QuerySelectorAll("td[data-series=sent]").Select(td => td.TextContent));
        Assert.Equal("14:00", rows[23].GetAttribute("data-hour"));
        Assert.Equal(["2", "1", "4", "2", "1"], rows[23].QuerySelectorAll("td").Select(td => td.TextContent));
        Assert.Equal(["0", "0", "3", "1", "0"], rows[22].QuerySelectorAll("td").Select(td => td.TextContent));
    }

    [Fact]
    public void Received_messages_chart_and_the_new_figures_replace_the_old()
    {
        var cut = ctx.Render<InboundPerHourChart>(p => p.Add(c => c.Hours, Hours()));
        Assert.Equal("None in the last 24 hours.", cut.Find("[data-testid=chart-summary]").TextContent);
        Assert.Equal("0", cut.Find("figure[data-testid=inbound-per-hour]").GetAttribute("data-total"));

        cut.Render(p => p.Add(c => c.Hours, Hours((5, 9, 9, 9, 9, 9, 2), (23, 0, 0, 0, 0, 0, 3))));

        Assert.Equal("5 in the last 24 hours; busiest hour 14:00 UTC with 3.", cut.Find("[data-testid=chart-summary]").TextContent);
        Assert.Equal("5", cut.Find("figure[data-testid=inbound-per-hour]").GetAttribute("data-total"));
        var rows = cut.FindAll("[data-testid=chart-row]");
        Assert.Equal("2", rows[5].QuerySelector("td[data-series=inbound]")!.TextContent);
        Assert.Equal("3", rows[23].QuerySelector("td[data-series=inbound]")!.TextContent);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(5, 2)]
    [InlineData(10, 5)]
    [InlineData(21, 5)]
    [InlineData(100, 50)]
    [InlineData(1500, 500)]
    public void The_vertical_axis_steps_by_round_numbers_so_a_single_message_is_a_visible_bar(int peak, int step) =>
        Assert.Equal(step, HourlyChart.TickFor(peak));
}
