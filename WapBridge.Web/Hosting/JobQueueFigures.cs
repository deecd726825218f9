using Hangfire;

namespace WapBridge.Web.Hosting;

/// <summary>The background job queue as the Admin's Overview shows it: jobs by state, and each queue's length.</summary>
public sealed record JobQueueFigures(long Enqueued, long Processing, long Scheduled, long Failed, IReadOnlyList<JobQueueLength> Queues);

public sealed record JobQueueLength(string Name, long Length);

/// <summary>Reads <see cref="JobQueueFigures"/>; an interface so component tests can show known figures.</summary>
public interface IJobQueueMonitor
{
    JobQueueFigures Read();
}

/// <summary>Hangfire's monitoring API on this host's storage (the cluster's shared one).</summary>
public sealed class HangfireJobQueueMonitor(JobStorage storage) : IJobQueueMonitor
{
    public JobQueueFigures Read()
    {
        var monitoring = storage.GetMonitoringApi();
        var statistics = monitoring.GetStatistics();
        var queues = monitoring.Queues().Select(q => new JobQueueLength(q.Name, q.Length)).OrderBy(q => q.Name, StringComparer.Ordinal).ToList();
        return new JobQueueFigures(statistics.Enqueued, statistics.Processing, statistics.Scheduled, statistics.Failed, queues);
    }
}
