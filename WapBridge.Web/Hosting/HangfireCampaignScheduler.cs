using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Hosting;

/// <summary>Campaign runs as Hangfire jobs on the queue of the node that hosts the campaign's instance.</summary>
public sealed class HangfireCampaignScheduler(IBackgroundJobClient jobs, IOptions<NodeOptions> node) : ICampaignScheduler
{
    public static string QueueFor(string nodeId) => "node_" + nodeId.ToLowerInvariant();

    public void RunNow(long campaignId) =>
        jobs.Create<CampaignRunner>(runner => runner.RunAsync(campaignId, CancellationToken.None), new EnqueuedState(QueueFor(node.Value.Id)));

    public void RunAt(long campaignId, DateTimeOffset when) =>
        jobs.Create<CampaignRunner>(runner => runner.RunAsync(campaignId, CancellationToken.None), new ScheduledState(when.UtcDateTime) );
}
