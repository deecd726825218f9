namespace WapBridge.Core.Engines.CloudApi;

/// <summary>Section <c>WapBridge:Engines:CloudApi</c>: Meta's WhatsApp Business Cloud API (Graph).</summary>
public sealed class CloudApiOptions
{
    public const string Section = "WapBridge:Engines:CloudApi";

    /// <summary>Graph's address with its version; tests point it at a fake Graph on loopback.</summary>
    public Uri GraphBaseUrl { get; set; } = new("https://graph.facebook.com/v23.0");

    /// <summary>How long one Graph request may take before it counts as failed (a send is then not retried blindly).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Meta's default throughput per business phone number.</summary>
    public int MessagesPerSecond { get; set; } = 80;

    /// <summary>
    /// Outgoing media goes to Graph as a signed, expiring link to the gateway's own copy (Meta downloads it) instead of
    /// being uploaded to Graph first: one request per media send instead of two, and nothing kept in Meta's media
    /// storage. Meta must reach the link: the media links' public base URL must be HTTPS and reachable from the
    /// internet. Off by default, where every file is uploaded.
    /// </summary>
    public bool SendMediaByLink { get; set; }
}
