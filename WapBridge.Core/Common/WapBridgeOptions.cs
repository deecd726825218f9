namespace WapBridge.Core.Common;

/// <summary>Top-level settings of the <c>WapBridge</c> configuration section.</summary>
public sealed class WapBridgeOptions
{
    public const string Section = "WapBridge";

    /// <summary>Where the SQLite database, Hangfire storage, media and Data Protection keys live.</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>When set, <c>Authorization: Bearer &lt;token&gt;</c> is an administrator on the admin API.</summary>
    public string? AdminToken { get; set; }

    public string ResolvedDataDir => Path.GetFullPath(DataDir);
}
