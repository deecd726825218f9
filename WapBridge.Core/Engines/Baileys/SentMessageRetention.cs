using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>Deletes the stored content of sent messages past <see cref="BaileysOptions.SentMessageRetention"/>, hourly.</summary>
public sealed class SentMessageRetention(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    IOptions<BaileysOptions> options,
    TimeProvider time,
    ILogger<SentMessageRetention> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Sweeps.RunAsync(PurgeAsync, () => Interval, time, logger, LogLevel.Warning, "Purging sent message content failed", stoppingToken);

    public async Task<int> PurgeAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deleted = await SentMessageStore.PurgeOlderThanAsync(db, time.GetUtcNow() - options.Value.SentMessageRetention, ct);
        if (deleted > 0)
            logger.LogInformation("Deleted the stored content of {Count} sent messages older than {Retention}", deleted, options.Value.SentMessageRetention);
        return deleted;
    }
}
