using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Sending (intake, outbox dispatch, receipts), the message log and media. <see cref="InboundRecorder"/> is only
    /// registered here: its place among the hosted services is <c>AddWapBridgeCore</c>'s to choose.
    /// </summary>
    public static IServiceCollection AddMessaging(this IServiceCollection services, IConfiguration configuration, DatabaseOptions database, string dataDir)
    {
        services.AddValidatedOptions<MessagingOptions>(configuration.GetSection(MessagingOptions.Section), Problems);
        // Every node must read what any node accepted: a shared folder when one is set, else the database on PostgreSQL.
        var sharedMedia = configuration.GetSection(MediaOptions.Section).Get<MediaOptions>()?.SharedDirectory;
        services.AddSingleton<IMediaStore>(sp => sharedMedia is { Length: > 0 } ? new MediaStore(Path.GetFullPath(sharedMedia))
            : database.ParsedProvider == DatabaseProvider.Postgres
                ? new DatabaseMediaStore(sp.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(), dataDir, sp.GetRequiredService<TimeProvider>())
                : new MediaStore(Path.Combine(dataDir, "media")));
        services.TryAddSingleton<InboundRecorder>();
        services.AddGatewayMetrics();
        services.AddSingleton<MessageOutcomes>();
        services.AddSingleton<MessageIntake>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageIntake>());
        services.AddSingleton<MessageReceipts>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageReceipts>());
        services.AddSingleton<OutboxSender>();
        services.AddSingleton<MessageDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageDispatcher>());
        services.AddOptions<OutboundTargetPolicy>().Bind(configuration.GetSection(OutboundTargetPolicy.BoundFrom));
        services.AddSingleton<MediaFetcher>();
        services.AddSingleton<MessageService>();
        services.AddSingleton<ConversationService>();
        services.AddSingleton<ChatQueries>();
        services.AddSingleton<MessageLog>();
        services.AddSingleton<MediaRetention>();
        services.AddSingleton<IInstanceEventObserver, MessageEventObserver>();
        return services;
    }

    private static string Setting(string key) => ValidatedOptions.Setting(MessagingOptions.Section, key);

    private static IEnumerable<string> Problems(MessagingOptions o)
    {
        if (o.QueuedTimeToLive <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.QueuedTimeToLive))} is {o.QueuedTimeToLive}; it must be longer than zero, e.g. 1.00:00:00 for a day.";
        if (o.InstanceMessagesPerSecond < 0 || !double.IsFinite(o.InstanceMessagesPerSecond))
            yield return $"{Setting(nameof(o.InstanceMessagesPerSecond))} is {o.InstanceMessagesPerSecond}; it must be 0 (no limit) or a positive rate such as 5.";
        if (o.MaxWaitSeconds < 0)
            yield return $"{Setting(nameof(o.MaxWaitSeconds))} is {o.MaxWaitSeconds}; it must be 0 or more seconds.";
        if (o.DefaultWaitSeconds < 0 || o.DefaultWaitSeconds > o.MaxWaitSeconds)
            yield return $"{Setting(nameof(o.DefaultWaitSeconds))} is {o.DefaultWaitSeconds}; it must be between 0 and {Setting(nameof(o.MaxWaitSeconds))} ({o.MaxWaitSeconds}).";
        if (o.SweepInterval <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.SweepInterval))} is {o.SweepInterval}; it must be longer than zero, e.g. 00:00:30.";
        if (o.MediaRetention <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.MediaRetention))} is {o.MediaRetention}; it must be longer than zero, e.g. 30.00:00:00 for 30 days.";
        if (o.MediaFetchTimeout <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.MediaFetchTimeout))} is {o.MediaFetchTimeout}; it must be longer than zero, e.g. 00:00:30.";
        if (o.MediaFetchesPerCustomer < 1)
            yield return $"{Setting(nameof(o.MediaFetchesPerCustomer))} is {o.MediaFetchesPerCustomer}; it must be 1 or more, e.g. 4.";
        if (o.MaxConcurrentMediaFetches < 1)
            yield return $"{Setting(nameof(o.MaxConcurrentMediaFetches))} is {o.MaxConcurrentMediaFetches}; it must be 1 or more, e.g. 32.";
    }
}
