namespace WapBridge.Core.Campaigns;

/// <summary>Runs campaign runner jobs (Hangfire in the web host); Core does not know the job system.</summary>
public interface ICampaignScheduler
{
    void RunNow(long campaignId);
    void RunAt(long campaignId, DateTimeOffset when);
}
