using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

/// <summary>
/// The instance row as its actor reads and writes it: every state change with its reason and node, only under the
/// session's fence epoch (<see cref="Cluster.NodeFence"/>), each change told to the change feed.
/// </summary>
public sealed class InstanceStateStore(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceChangeFeed changes,
    IOptions<NodeOptions> node,
    TimeProvider time,
    ILogger<InstanceStateStore> logger)
{
    private readonly string _node = node.Value.Id;

    public async Task<Instance?> LoadAsync(int instanceId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId);
    }

    public async Task<Instance?> LoadByCodeAsync(string code)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Code == code);
    }

    /// <summary>
    /// Records the session's state (null: keeps it, for account facts such as a restriction) under the fence: when
    /// another node has taken the instance over meanwhile, nothing is written and this node's session closes.
    /// </summary>
    /// <param name="detail">The engine's raw words behind a plain <paramref name="reason"/>: history and log only.</param>
    /// <returns>Whether the state changed.</returns>
    internal async Task<bool> RecordAsync(LiveSession live, InstanceState? state, string? reason, Action<Instance>? alsoChange = null, string? detail = null)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync();
        var instance = await db.Instances.SingleOrDefaultAsync(i => i.Id == live.InstanceId);
        if (instance is null)
            return false;
        if (instance.SessionNode != _node || instance.SessionEpoch != live.Epoch)
        {
            logger.LogWarning("Instance {Instance} was taken over by node {Holder}; closing its session on node {Node}",
                live.Code, instance.SessionNode ?? "(none)", _node);
            // Another node holds the instance now: the session closes without touching the row (no release).
            _ = live.Owner.EndAsync(live);
            return false;
        }
        var changed = state is not null && instance.State != state;
        if (state is not null)
        {
            instance.State = state.Value;
            if (changed)
                instance.StateChangedAt = now;
            instance.LastError = state is InstanceState.Disconnected or InstanceState.LoggedOut ? Clip(reason) : null;
            // No reconnect is pending unless the caller schedules one (alsoChange).
            instance.NextRetryAt = null;
            instance.ReconnectAttempts = 0;
        }
        alsoChange?.Invoke(instance);
        if (state is not null && (changed || reason is not null))
            db.InstanceStateChanges.Add(new InstanceStateChange
            {
                InstanceId = instance.Id, State = state.Value, Reason = Clip(detail is null ? reason : $"{reason} ({detail})"), At = now, NodeId = _node,
            });
        await db.SaveChangesAsync();
        // Observers see the instance as it is now, without a query per engine event.
        db.Entry(instance).State = EntityState.Detached;
        live.Instance = instance;
        live.Owner.PublishIfCurrent(live);
        if (changed)
            logger.LogInformation("Instance {Instance} is {State} on node {Node}{Reason}{Detail}", live.Code, state?.ToWire(), _node, reason is null ? "" : $" ({reason})",
                detail is null ? "" : $": {detail}");
        changes.Publish(live.Code);
        return changed;
    }

    internal async Task CountUndecryptableAsync(LiveSession live)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Instances.Where(i => i.Id == live.InstanceId)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.UndecryptableMessages, i => i.UndecryptableMessages + 1));
        if (live.Instance is { } snapshot)
            snapshot.UndecryptableMessages++;
        changes.Publish(live.Code);
    }

    /// <summary>Says why on the instance (e.g. its engine is unavailable on this node) instead of leaving its old state.</summary>
    public async Task RecordResumeFailureAsync(int instanceId, Exception e)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Instances.Where(i => i.Id == instanceId).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.State, InstanceState.Disconnected)
            .SetProperty(i => i.LastError, Clip("could not resume: " + e.Message))
            .SetProperty(i => i.NextRetryAt, (DateTimeOffset?)null)
            .SetProperty(i => i.ReconnectAttempts, 0)
            .SetProperty(i => i.StateChangedAt, time.GetUtcNow()));
    }

    /// <summary>Reasons and details as stored: at most 500 characters.</summary>
    public static string? Clip(string? text) => text is { Length: > 500 } ? text[..500] : text;
}
