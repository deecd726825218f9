using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Groups;
using WapBridge.Core.Health;
using WapBridge.Core.Idempotency;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core;

public static class WapBridgeCoreServiceCollectionExtensions
{
    /// <summary>
    /// Every Core feature, in the order their hosted services must start and (in reverse) stop. The host registers
    /// first the clock, the database and Data Protection, and provides <see cref="Common.IPublicUrls"/> and
    /// <see cref="ICampaignScheduler"/>.
    /// </summary>
    public static IHostApplicationBuilder AddWapBridgeCore(this IHostApplicationBuilder builder, DatabaseOptions database, string dataDir)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        services.AddAccounts(configuration);
        services.AddSingleton<IdempotencyStore>();
        services.AddEngines(configuration, dataDir);
        // Before the instances: hosted services stop in reverse order, so sessions close first and the recorder then
        // commits the inbound messages their events are still waiting for.
        services.AddSingleton<InboundRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<InboundRecorder>());
        builder.AddInstances(database, dataDir);
        services.AddContacts();
        services.AddHealth(configuration);
        services.AddGroups();
        // After AddGroups: the cache takes a group event before the dashboards hear of it.
        services.AddSingleton<IInstanceEventObserver, GroupLiveNotices>();
        services.AddMessaging(configuration, database, dataDir);
        services.AddWebhooks(configuration);
        services.AddCampaigns(configuration);
        services.AddTelemetry(configuration);
        return builder;
    }
}
