using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Core.Engines.CloudApi;

public static class CloudApiServiceCollectionExtensions
{
    /// <summary>Meta's WhatsApp Business Cloud API: the engine, its Graph client, callbacks and the customer-service window.</summary>
    public static IServiceCollection AddCloudApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CloudApiOptions>().Bind(configuration.GetSection(CloudApiOptions.Section))
            .Validate(o => o.GraphBaseUrl.IsAbsoluteUri && (o.GraphBaseUrl.Scheme == Uri.UriSchemeHttps || o.GraphBaseUrl.Scheme == Uri.UriSchemeHttp),
                $"{CloudApiOptions.Section}:GraphBaseUrl must be an absolute http(s) URL")
            .Validate(o => o.RequestTimeout > TimeSpan.Zero, $"{CloudApiOptions.Section}:RequestTimeout must be positive")
            .Validate(o => o.MessagesPerSecond > 0, $"{CloudApiOptions.Section}:MessagesPerSecond must be positive")
            .ValidateOnStart();
        services.TryAddSingleton<OutboundConnector>();
        services.AddSingleton<GraphClient>();
        services.AddSingleton<GraphSendLimiter>();
        services.AddSingleton<CloudApiEngine>();
        services.AddSingleton<IWhatsAppEngine>(sp => sp.GetRequiredService<CloudApiEngine>());
        services.AddSingleton<CloudApiInstances>();
        services.AddSingleton<CloudApiCallbackInbox>();
        services.AddSingleton<CloudApiCallbackProcessor>();
        services.AddHostedService<CloudApiCallbackSweep>();
        services.AddSingleton<ServiceWindowStore>();
        services.AddSingleton<ServiceWindowRule>();
        services.AddSingleton<Instances.IInstanceEventObserver, ServiceWindowRecorder>();
        services.AddSingleton<TemplateService>();
        services.AddSingleton<CloudApiDashboard>();
        return services;
    }
}
