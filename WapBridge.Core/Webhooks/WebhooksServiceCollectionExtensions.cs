using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;
using WapBridge.Core.Contacts;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Webhooks;

public static class WebhooksServiceCollectionExtensions
{
    /// <summary>Webhook settings, the outbox and its dispatcher. The host provides <see cref="IPublicUrls"/> (where media links point).</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WebhookOptions>(configuration.GetSection(WebhookOptions.Section), Problems);
        services.AddSingleton<MediaLinks>();
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<OutboundConnector>();
        services.AddGatewayMetrics();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddSingleton<WebhookSettingsService>();
        services.AddSingleton<IInstanceEventObserver, WebhookEventObserver>();
        services.AddSingleton<IInboundMessageObserver, InboundMessageWebhooks>();
        services.AddSingleton<ILidMappingObserver, LidMappingWebhooks>();
        services.AddSingleton<IHealthLevelObserver, HealthWebhooks>();
        return services;
    }

    private static string Setting(string key) => ValidatedOptions.Setting(WebhookOptions.Section, key);

    private static IEnumerable<string> Problems(WebhookOptions o)
    {
        if (o.AttemptTimeout <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.AttemptTimeout))} is {o.AttemptTimeout}; it must be longer than zero, e.g. 00:00:15.";
        if (o.MaxConcurrency < 1)
            yield return $"{Setting(nameof(o.MaxConcurrency))} is {o.MaxConcurrency}; it must be 1 or more.";
        if (o.MaxConcurrencyPerEndpoint < 1)
            yield return $"{Setting(nameof(o.MaxConcurrencyPerEndpoint))} is {o.MaxConcurrencyPerEndpoint}; it must be 1 or more.";
        // The binder packs the configured entries, so the position would not name the user's key: the value does.
        if (o.RetrySchedule is { } schedule && schedule.Any(d => d < TimeSpan.Zero))
            yield return $"{Setting(nameof(o.RetrySchedule))} has the delay {schedule.First(d => d < TimeSpan.Zero)}; each delay between attempts must be zero or more, e.g. 00:05:00.";
        if (o.InlineMediaBytes < 0)
            yield return $"{Setting(nameof(o.InlineMediaBytes))} is {o.InlineMediaBytes}; it must be 0 (never inline) or more bytes.";
        if (o.MediaUrlLifetime <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.MediaUrlLifetime))} is {o.MediaUrlLifetime}; it must be longer than zero, e.g. 7.00:00:00.";
    }
}
