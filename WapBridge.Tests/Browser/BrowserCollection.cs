namespace WapBridge.Tests.Browser;

/// <summary>
/// Browser tests run one at a time, after the parallel tests: a headless Chromium, a Blazor circuit and a
/// gateway per test are too much to share two cores with the rest of the suite.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}
