using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Dashboard;

/// <summary>Stands in for Hangfire: records what the campaign service asks for and runs nothing, so campaigns stay as created.</summary>
public sealed class RecordingCampaignScheduler : ICampaignScheduler
{
    public ConcurrentQueue<(long CampaignId, DateTimeOffset? At)> Calls { get; } = new();

    public void RunNow(long campaignId) => Calls.Enqueue((campaignId, null));

    public void RunAt(long campaignId, DateTimeOffset when) => Calls.Enqueue((campaignId, when));
}

/// <summary>The instance harness plus the real <see cref="CampaignService"/> on the recording scheduler.</summary>
public static class CampaignDashboardHarness
{
    public static InstanceDashboardHarness Create(RecordingCampaignScheduler scheduler, Action<IServiceCollection>? configure = null) =>
        new(TimeProvider.System, configure: services =>
        {
            services.AddSingleton<ICampaignScheduler>(scheduler);
            services.AddCampaigns(new ConfigurationBuilder().Build());
            configure?.Invoke(services);
        });
}
