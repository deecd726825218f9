namespace WapBridge.Core.Messaging;

/// <summary>Section <c>WapBridge:Messaging</c>.</summary>
public sealed class MessagingOptions
{
    public const string Section = "WapBridge:Messaging";

    /// <summary>How long a message queued on a disconnected instance waits for it before failing.</summary>
    public TimeSpan QueuedTimeToLive { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Default seconds <c>send_api_message</c> waits for the send when <c>wait</c> is not given.</summary>
    public int DefaultWaitSeconds { get; set; } = 15;

    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>Sends per second per instance; 0 = no limit.</summary>
    public double InstanceMessagesPerSecond { get; set; } = 5;

    /// <summary>How often queued messages are checked for expiry and forgotten outboxes are woken.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public MediaLimits MediaLimits { get; set; } = new();

    /// <summary>Media files older than this are deleted by the hourly maintenance job.</summary>
    public TimeSpan MediaRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long fetching a <c>media_url</c> may take in all (connect, redirects, the whole body).</summary>
    public TimeSpan MediaFetchTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>media_url</c> fetches one customer may have running at once on this node; more wait their turn.</summary>
    public int MediaFetchesPerCustomer { get; set; } = 4;

    /// <summary><c>media_url</c> fetches running at once on this node, over all customers.</summary>
    public int MaxConcurrentMediaFetches { get; set; } = 32;
}

/// <summary>Largest decoded media per kind (contract §2).</summary>
public sealed class MediaLimits
{
    public long ImageBytes { get; set; } = 5 * 1024 * 1024;
    public long VideoBytes { get; set; } = 16 * 1024 * 1024;
    public long AudioBytes { get; set; } = 16 * 1024 * 1024;
    public long DocumentBytes { get; set; } = 100 * 1024 * 1024;
}
