using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WapBridge.Core.Messaging;

/// <summary>The maintenance job that forgets media past <see cref="MessagingOptions.MediaRetention"/>.</summary>
public sealed class MediaRetention(IMediaStore store, IOptions<MessagingOptions> options, TimeProvider time, ILogger<MediaRetention> logger)
{
    public int Purge()
    {
        var deleted = store.PurgeOlderThan(time.GetUtcNow() - options.Value.MediaRetention);
        if (deleted > 0)
            logger.LogInformation("Deleted {Count} media files older than {Retention}", deleted, options.Value.MediaRetention);
        return deleted;
    }
}
