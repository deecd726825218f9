using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Live;

public static class LiveServiceCollectionExtensions
{
    /// <summary>The live updates of dashboards (<see cref="LiveChanges"/>), and the producers hooked into other features' seams.</summary>
    public static IServiceCollection AddLiveChanges(this IServiceCollection services)
    {
        services.AddSingleton<LiveChanges>();
        services.AddSingleton<LiveNotices>();
        services.AddSingleton<InstanceChangeFeed>();
        services.AddSingleton<MessageLiveNotices>();
        services.AddSingleton<IReceiptListener>(sp => sp.GetRequiredService<MessageLiveNotices>());
        services.AddSingleton<IInboundMessageObserver>(sp => sp.GetRequiredService<MessageLiveNotices>());
        services.AddSingleton<IInstanceEventObserver, PresenceLiveNotices>();
        return services;
    }
}
