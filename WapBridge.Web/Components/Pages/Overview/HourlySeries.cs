namespace WapBridge.Web.Components.Pages.Overview;

/// <summary>One stacked series of an <see cref="HourlyChart"/>: a count per hour, named and coloured (a CSS colour).</summary>
public sealed record HourlySeries(string Key, string Name, IReadOnlyList<int> Values, string Color);
