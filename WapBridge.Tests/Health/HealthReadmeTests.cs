using System.Globalization;
using WapBridge.Core.Health;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>The README's "Account health" section publishes the rules and budget the code applies, and stays true to them.</summary>
public sealed class HealthReadmeTests
{
    private static string Section()
    {
        var readme = File.ReadAllText(Path.Combine(GatewayProcess.RepositoryRoot, "README.md"));
        var start = readme.IndexOf("\n## Account health\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no \"## Account health\" section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    /// <summary>The rows of the table whose header row starts with <paramref name="firstHeader"/>, cells trimmed.</summary>
    private static List<string[]> Table(string section, string firstHeader)
    {
        var lines = section.Split('\n').Select(l => l.Trim()).ToList();
        var header = lines.FindIndex(l => l.StartsWith($"| {firstHeader} |", StringComparison.Ordinal));
        Assert.True(header >= 0, $"the Account health section has no table starting with \"| {firstHeader} |\"");
        return lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
    }

    private static string Row(HealthRule r) =>
        $"| `{r.Code}` | {r.Signal} | {r.Threshold} | {r.Penalty} | {r.Level} |";

    [Fact]
    public void The_rule_table_is_the_one_the_score_applies()
    {
        var documented = Table(Section(), "Code").Select(c => "| " + string.Join(" | ", c) + " |").ToList();
        var expected = HealthScore.Rules.Select(Row).ToList();
        Assert.True(expected.SequenceEqual(documented),
            "README.md's Account health table differs from HealthScore.Rules; the code's table is:\n" + string.Join("\n", expected));
    }

    [Fact]
    public void The_warm_up_schedule_and_the_warmed_up_allowance_are_the_defaults()
    {
        var section = Section();
        var rows = Table(section, "Day");
        var schedule = HealthOptions.DefaultWarmUp;
        Assert.Equal(schedule.Length + 1, rows.Count);
        for (var day = 1; day <= schedule.Length; day++)
            Assert.Equal([day.ToString(CultureInfo.InvariantCulture), schedule[day - 1].ToString(CultureInfo.InvariantCulture)], rows[day - 1]);
        Assert.Equal($"{schedule.Length + 1} and later, and numbers paired before budgets existed", rows[^1][0]);
        Assert.Equal(new HealthOptions().WarmedUpDailyNewContacts.ToString(CultureInfo.InvariantCulture), rows[^1][1]);

        foreach (var setting in new[] { "WAPBRIDGE_Health__WarmUp__0", "WAPBRIDGE_Health__WarmedUpDailyNewContacts", "WAPBRIDGE_Health__EvaluateInterval", "WAPBRIDGE_Health__SignalWindow" })
            Assert.Contains($"`{setting}", section);
        Assert.Contains($"at least {HealthScore.MinSample}", section);
    }
}
