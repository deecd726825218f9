using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Meta's official WhatsApp Business Cloud API (contract §11): sends through Graph with the instance's access token,
/// receives through Meta's webhooks. No QR and no pairing: an instance is connected once Graph answers for its number.
/// </summary>
/// <param name="mediaLinks">The gateway's signed media links, for <see cref="CloudApiOptions.SendMediaByLink"/>; absent on a
/// host that serves no media (every file is then uploaded).</param>
public sealed class CloudApiEngine(GraphClient graph, GraphSendLimiter limiter, TimeProvider time, ILogger<CloudApiEngine> logger,
    IOptions<CloudApiOptions>? options = null, MediaLinks? mediaLinks = null) : IWhatsAppEngine
{
    public const string EngineName = "cloudapi";

    public string Name => EngineName;

    // Nothing to install or run: Graph is reached over HTTPS when it is needed.
    public string? UnavailableReason => null;

    public bool SupportsPairingCode => false;

    /// <summary>
    /// What Graph's messages endpoint offers. Not mentions, polls, edits, deletes, presence, profiles or groups: Meta
    /// has no such call for business numbers.
    /// </summary>
    public bool Supports(string feature) => feature is EngineFeatures.Replies or EngineFeatures.Reactions or EngineFeatures.Locations
        or EngineFeatures.Contacts or EngineFeatures.ReadReceipts or EngineFeatures.Templates or EngineFeatures.ServiceWindow;

    /// <summary>The pauses between tries of a throttled send, or of one that never reached Graph, when Graph names none.</summary>
    internal IReadOnlyList<TimeSpan> RetryBackoff { get; set; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>The longest <c>Retry-After</c> a send waits for; beyond it the outbox tries again later instead.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    public IEngineSession CreateSession(EngineSessionContext context) => new CloudApiSession(context, graph, limiter, RetryBackoff, LinkTo, time, logger);

    private int _warnedInsecureLinks;

    /// <summary>The link Graph fetches a stored file from, when media goes by link; null to upload it.</summary>
    private string? LinkTo(EngineMedia media)
    {
        if (options?.Value.SendMediaByLink != true || mediaLinks is null || media.StoredHash is not { } hash)
            return null;
        var link = mediaLinks.Create(new MediaLinkTarget(hash, media.MimeType, media.FileName));
        // Meta downloads only over HTTPS from the internet: a link to the listen address fails each such send at Meta.
        if (!link.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && Interlocked.Exchange(ref _warnedInsecureLinks, 1) == 0)
            logger.LogWarning("Cloud API media goes by link (WapBridge:Engines:CloudApi:SendMediaByLink) but media links are not HTTPS ({LinkBase}): " +
                "Meta cannot fetch them; set WAPBRIDGE_PublicBaseUrl to the gateway's public HTTPS address", link[..link.IndexOf(MediaLinks.PathPrefix, StringComparison.Ordinal)]);
        return link;
    }
}
