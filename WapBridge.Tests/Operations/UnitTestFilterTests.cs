using System.Reflection;
using System.Text.RegularExpressions;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Operations;

/// <summary>README's fast-test command (<c>dotnet test … --filter "Category=…"</c>) selects the tests tagged for it.</summary>
[Trait("Category", "Unit")]
public sealed partial class UnitTestFilterTests
{
    [GeneratedRegex(@"dotnet test WapBridge\.Tests --filter ""Category=(?<category>\w+)""")]
    private static partial Regex ReadmeFilter();

    [Fact]
    public void The_readme_filter_selects_the_tagged_fast_tests()
    {
        var readme = File.ReadAllText(Path.Combine(GatewayProcess.RepositoryRoot, "README.md"));
        var documented = ReadmeFilter().Match(readme);
        Assert.True(documented.Success, "README no longer documents the fast-test command: dotnet test WapBridge.Tests --filter \"Category=…\"");
        var category = documented.Groups["category"].Value;

        var selected = typeof(UnitTestFilterTests).Assembly.GetTypes()
            .Where(t => t.GetCustomAttributesData().Any(a => a.AttributeType == typeof(TraitAttribute)
                && a.ConstructorArguments is [{ Value: "Category" }, { Value: string value }] && value == category))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Count(m => m.GetCustomAttributes<FactAttribute>().Any());
        // A dozen classes carry the trait today; a handful would mean the tags were lost, not that the suite shrank.
        Assert.True(selected >= 50, $"--filter \"Category={category}\" selects {selected} test methods");
    }
}
