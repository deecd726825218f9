using Microsoft.Extensions.Hosting;

namespace WapBridge.Core.Cluster;

/// <summary>
/// The two moments a starting node's work waits for. The node starts its parts side by side (the silo takes about a
/// second), so the web server listens early: <see cref="WaitForSiloAsync"/> holds jobs and services that call instance
/// actors until every part has started; <see cref="WaitForInstancesAsync"/> holds requests until the instances that
/// should be connected have been resumed too, so nobody reads a state left from before the restart as current.
/// </summary>
public sealed class ClusterReadiness
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClusterReadiness(IHostApplicationLifetime lifetime) => lifetime.ApplicationStarted.Register(() => _started.TrySetResult());

    public bool InstancesResumed => _resumed.Task.IsCompleted;

    public Task WaitForSiloAsync(CancellationToken ct) => _started.Task.IsCompleted ? Task.CompletedTask : _started.Task.WaitAsync(ct);

    public Task WaitForInstancesAsync(CancellationToken ct) => InstancesResumed ? Task.CompletedTask : _resumed.Task.WaitAsync(ct);

    /// <summary>The first resume pass ended (also when some instances wait for another try: requests go on then).</summary>
    internal void FirstResumeDone() => _resumed.TrySetResult();
}
