using Hangfire;
using Hangfire.States;
using WapBridge.Core.Campaigns;

namespace WapBridge.Web.Hosting;

/// <summary>
/// Campaign runs as Hangfire jobs on one queue every node reads: the runner sends through the instance's actor, so
/// any node can run any campaign, and a dead node's campaign is picked up by the others (<see cref="CampaignRecovery"/>).
/// </summary>
public sealed class HangfireCampaignScheduler(IBackgroundJobClient jobs) : ICampaignScheduler
{
    public const string Queue = "campaigns";

    /// <summary>The per-node queue of releases before the cluster; still read, so jobs left in it run.</summary>
    public static string LegacyQueueFor(string nodeId) => "node_" + nodeId.ToLowerInvariant();

    public void RunNow(long campaignId) =>
        jobs.Create<CampaignRunner>(runner => runner.RunAsync(campaignId, CancellationToken.None), new EnqueuedState(Queue));

    public void RunAt(long campaignId, DateTimeOffset when) =>
        jobs.Create<CampaignRunner>(runner => runner.RunAsync(campaignId, CancellationToken.None), new ScheduledState(when.UtcDateTime) );
}
