using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Live;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Group commit for accepted messages: concurrent requests hand their rows to one writer, which saves
/// everything waiting in a single transaction and then answers each request. Every answer still comes
/// only after its row is committed; the database just syncs once per batch instead of once per message.
/// </summary>
public sealed class MessageIntake(IDbContextFactory<WapBridgeDbContext> dbFactory, LiveNotices notices, GatewayMetrics metrics, ILogger<MessageIntake> logger)
    : BackgroundService
{
    private const int MaxBatch = 512;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    private sealed record Pending(Message Message, TaskCompletionSource Committed);

    /// <summary>Returns once <paramref name="message"/> is committed (its <see cref="Message.Id"/> is then set).</summary>
    public Task SaveAsync(Message message)
    {
        var pending = new Pending(message, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
            throw new InvalidOperationException("WapBridge is shutting down and accepts no more messages.");
        return pending.Committed.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
                    batch.Add(pending);
                await CommitAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
            // Whatever is still queued was never committed: its callers get an error, not an "ok".
            while (_queue.Reader.TryRead(out var left))
                left.Committed.TrySetException(new OperationCanceledException("WapBridge stopped before the message was stored."));
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var messages = batch.ConvertAll(p => p.Message);
            await OutboundMessages.InsertAsync(db, messages);
            await transaction.CommitAsync();
            foreach (var p in batch)
                p.Committed.TrySetResult();
            foreach (var instanceId in batch.Select(p => p.Message.InstanceId).Distinct())
                notices.MessagesChanged(instanceId);
            await metrics.RecordAcceptedAsync(messages);
        }
        catch (Exception e) when (batch.Count > 1)
        {
            // One bad row must not fail its neighbours: retry them one by one.
            logger.LogWarning(e, "Batch of {Count} messages failed to commit; retrying one by one", batch.Count);
            foreach (var p in batch)
            {
                p.Message.Id = 0;
                await CommitAsync([p]);
            }
        }
        catch (Exception e)
        {
            batch[0].Committed.TrySetException(e);
        }
    }
}
