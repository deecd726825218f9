using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Meta's official WhatsApp Business Cloud API (contract §11): sends through Graph with the instance's access token,
/// receives through Meta's webhooks. No QR and no pairing: an instance is connected once Graph answers for its number.
/// </summary>
public sealed class CloudApiEngine(GraphClient graph, GraphSendLimiter limiter, TimeProvider time, ILogger<CloudApiEngine> logger) : IWhatsAppEngine
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

    public IEngineSession CreateSession(EngineSessionContext context) => new CloudApiSession(context, graph, limiter, RetryBackoff, time, logger);
}
