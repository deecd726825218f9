using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Web.Api.Frappe;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Docs;

/// <summary>
/// The documents code comments cite stay true to the code: docs/API.md lists every method the app maps (and none it
/// does not), and every file docs/ARCHITECTURE.md or docs/API.md names, or links to, exists.
/// </summary>
public sealed partial class ApiDocTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    private static string Root => GatewayProcess.RepositoryRoot;

    private static string Read(string relativePath)
    {
        var path = Path.Combine(Root, relativePath);
        Assert.True(File.Exists(path), $"{relativePath} is missing");
        return File.ReadAllText(path);
    }

    [Fact]
    public void Api_doc_lists_every_mapped_method_and_no_other()
    {
        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Where(p => p.StartsWith(FrappeMethods.MethodPrefix, StringComparison.Ordinal) && !p.Contains('{'))
            .Select(p => p[FrappeMethods.MethodPrefix.Length..])
            .ToHashSet();
        Assert.NotEmpty(mapped);

        var doc = Read("docs/API.md");
        var documented = DocumentedMethod().Matches(doc).Select(m => m.Groups[1].Value).ToHashSet();

        var missing = mapped.Except(documented).Order().ToList();
        Assert.True(missing.Count == 0, "docs/API.md does not list " + string.Join(", ", missing) + ": add a row to its method table");
        var unknown = documented.Except(mapped).Order().ToList();
        Assert.True(unknown.Count == 0, "docs/API.md lists methods the app does not map: " + string.Join(", ", unknown));
    }

    [Theory]
    [InlineData("docs/ARCHITECTURE.md")]
    [InlineData("docs/API.md")]
    public void Every_file_a_doc_names_or_links_exists(string docPath)
    {
        var doc = Read(docPath);
        // Paths in backticks are from the repository root, or from the project they obviously belong to (Api/…, Hosting/…).
        string[] bases = [Root, Path.Combine(Root, "WapBridge.Web"), Path.Combine(Root, "WapBridge.Core")];
        var cited = CitedFile().Matches(doc).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(cited);
        var missing = cited.Where(p => !bases.Any(b => File.Exists(Path.Combine(b, p)))).ToList();
        Assert.True(missing.Count == 0, $"{docPath} names files that do not exist: {string.Join(", ", missing)}");

        var docDir = Path.GetDirectoryName(Path.Combine(Root, docPath))!;
        var brokenLinks = RelativeLink().Matches(doc).Select(m => m.Groups[1].Value)
            .Where(l => !File.Exists(Path.Combine(docDir, l))).ToList();
        Assert.True(brokenLinks.Count == 0, $"{docPath} links to files that do not exist: {string.Join(", ", brokenLinks)}");
    }

    [Fact]
    public void Readme_links_both_docs()
    {
        var readme = Read("README.md");
        Assert.Contains("(docs/ARCHITECTURE.md)", readme);
        Assert.Contains("(docs/API.md)", readme);
    }

    [GeneratedRegex(@"`(wap_bridge\.api\.[a-z_]+\.[a-z_]+)`")]
    private static partial Regex DocumentedMethod();

    [GeneratedRegex(@"`([A-Za-z0-9_./-]+\.(?:cs|js|razor|md))`")]
    private static partial Regex CitedFile();

    [GeneratedRegex(@"\]\((?!https?:|#)([^)#\s]+)(?:#[^)]*)?\)")]
    private static partial Regex RelativeLink();
}
