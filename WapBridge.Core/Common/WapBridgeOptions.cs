namespace WapBridge.Core.Common;

/// <summary>Top-level settings of the <c>WapBridge</c> configuration section.</summary>
public sealed class WapBridgeOptions
{
    public const string Section = "WapBridge";

    /// <summary>Where the SQLite database, Hangfire storage, media and Data Protection keys live.</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>When set, <c>Authorization: Bearer &lt;token&gt;</c> is an administrator on the admin API.</summary>
    public string? AdminToken { get; set; }

    /// <summary>Shorter admin tokens refuse the start: the token opens every tenant, so it must not be guessable.</summary>
    public const int MinAdminTokenLength = 32;

    /// <summary>
    /// The address users and integrators reach this server at (e.g. <c>https://wapbridge.example.com</c>), for links
    /// WapBridge hands out or logs (password reset, media). Unset: the first listen address; never a request's Host header.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    public string ResolvedDataDir => Path.GetFullPath(DataDir);
}
