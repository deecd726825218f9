using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Lets a caller wait, in memory and bounded, for a queued message to be sent or fail. Keyed by the
/// WhatsApp id, which exists before the row is saved: the watch starts before the outbox can see the
/// message, so an outcome can never be reported before anyone listens.
/// </summary>
public sealed class MessageOutcomes
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<MessageStatus>> _waiting = new();

    public Task<MessageStatus> WatchAsync(string waMessageId) =>
        _waiting.GetOrAdd(waMessageId, _ => new TaskCompletionSource<MessageStatus>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Forget(string waMessageId) => _waiting.TryRemove(waMessageId, out _);

    public void Report(string waMessageId, MessageStatus status)
    {
        if (_waiting.TryRemove(waMessageId, out var waiter))
            waiter.TrySetResult(status);
    }

    private static readonly TimeSpan RowPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The outcome of sends made by another node's outbox: <see cref="Report"/> is called only on the node the instance
    /// lives on, so a caller elsewhere reads the rows until none of them is queued or sending. Answers the first one's
    /// status. Meant to race the in-memory watch and be cancelled once that or the caller's bound ends.
    /// </summary>
    public static async Task<MessageStatus> FromRowsAsync(IDbContextFactory<WapBridgeDbContext> dbFactory, int instanceId, IReadOnlyList<string> waMessageIds,
        TimeProvider time, CancellationToken ct)
    {
        while (true)
        {
            await Task.Delay(RowPoll, time, ct);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var rows = await db.Messages.AsNoTracking().Where(m => m.InstanceId == instanceId && waMessageIds.Contains(m.WaMessageId))
                .Select(m => new { m.WaMessageId, m.Status }).ToListAsync(ct);
            if (rows.Count > 0 && rows.All(r => r.Status is not (MessageStatus.Queued or MessageStatus.Sending)))
                return rows.FirstOrDefault(r => r.WaMessageId == waMessageIds[0])?.Status ?? rows[0].Status;
        }
    }
}
