using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

/// <summary>
/// The per-instance outbox: one worker per instance takes queued messages in priority order, marks each
/// <c>sending</c> before the engine sees it, sends it with its stored WhatsApp id under the instance's
/// rate limit, and records the outcome. A message found in <c>sending</c> (a crash mid-send) is sent
/// again with the same id, which WhatsApp collapses.
/// </summary>
public sealed class MessageDispatcher(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceManager manager,
    IMediaStore media,
    MessageOutcomes outcomes,
    IOptions<MessagingOptions> options,
    TimeProvider time,
    ILogger<MessageDispatcher> logger) : BackgroundService
{
    private const int BatchSize = 100;

    // Under load an unthrottled outbox that took a partial batch waits this long for the next one to fill: each
    // batch is two write transactions, and every write holds SQLite's one writer lock that accepting a message
    // waits for. A lone message (batch of one or a few) never waits.
    private const int CoalesceAbove = 4;
    private static readonly TimeSpan CoalesceWait = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<int, Worker> _workers = new();
    private CancellationToken _stopping = CancellationToken.None;
    private bool _started;

    /// <summary>Something changed for this instance (a message queued, it connected): look at its outbox now.</summary>
    public void Wake(int instanceId)
    {
        if (!_started)
            return;
        var worker = _workers.GetOrAdd(instanceId, id => new Worker(id));
        worker.Wake();
        worker.EnsureRunning(() => RunWorkerAsync(worker));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        _started = true;
        await Sweeps.RunAsync(SweepAsync, () => options.Value.SweepInterval, time, logger, LogLevel.Error, "Outbox sweep failed", stoppingToken);
    }

    /// <summary>Expires what waited too long, then wakes the worker of every instance with queued or unfinished sends.</summary>
    private async Task SweepAsync(CancellationToken ct)
    {
        await ExpireAsync(ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var pending = await db.Messages.Where(m => m.Direction == Message.Outbound
                && (m.Status == MessageStatuses.Queued || m.Status == MessageStatuses.Sending))
            .Select(m => m.InstanceId).Distinct().ToListAsync(ct);
        foreach (var instanceId in pending)
            Wake(instanceId);
    }

    /// <summary>Queued messages past their time-to-live fail with <c>expired</c>, visibly.</summary>
    private async Task ExpireAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var expired = await db.Messages.Where(m => m.Status == MessageStatuses.Queued && m.ExpiresAt < now)
            .Select(m => new { m.Id, m.WaMessageId }).ToListAsync(ct);
        foreach (var (id, waId) in expired.Select(e => (e.Id, e.WaMessageId)))
        {
            await db.Messages.Where(m => m.Id == id && m.Status == MessageStatuses.Queued).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatuses.Failed)
                .SetProperty(m => m.Ack, (int)MessageAck.Error)
                .SetProperty(m => m.ErrorCode, "expired")
                .SetProperty(m => m.Error, "The instance stayed disconnected past the message's time-to-live (WapBridge:Messaging:QueuedTimeToLive)."), ct);
            outcomes.Report(waId, MessageStatuses.Failed);
        }
        if (expired.Count > 0)
            logger.LogWarning("{Count} queued messages expired unsent", expired.Count);
    }

    private async Task RunWorkerAsync(Worker worker)
    {
        var nextSendAt = DateTimeOffset.MinValue;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(_stopping);
                var instance = await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == worker.InstanceId, _stopping);
                if (instance is null)
                {
                    _workers.TryRemove(worker.InstanceId, out _);
                    return;
                }
                var session = manager.Session(instance.Code);
                if (instance.State != InstanceStates.Connected || session is null)
                {
                    await worker.WaitAsync(IdlePoll, time, _stopping);
                    continue;
                }

                // Unthrottled, a batch is claimed and recorded with one write each; throttled, one message at a time.
                var rate = options.Value.InstanceMessagesPerSecond;
                var batch = await db.Messages.AsNoTracking()
                    .Where(m => m.InstanceId == worker.InstanceId && m.Direction == Message.Outbound
                        && (m.Status == MessageStatuses.Queued || m.Status == MessageStatuses.Sending))
                    .OrderBy(m => m.Priority).ThenBy(m => m.Id)
                    .Take(rate > 0 ? 1 : BatchSize)
                    .ToListAsync(_stopping);
                if (batch.Count == 0)
                {
                    await worker.WaitAsync(IdlePoll, time, _stopping);
                    continue;
                }
                if (rate > 0)
                {
                    var wait = nextSendAt - time.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, time, _stopping);
                    nextSendAt = time.GetUtcNow() + TimeSpan.FromSeconds(1 / rate);
                }
                await SendBatchAsync(db, session, batch);
                if (rate <= 0 && batch.Count > CoalesceAbove && batch.Count < BatchSize)
                    await Task.Delay(CoalesceWait, _stopping);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Outbox worker for instance {InstanceId} failed; retrying", worker.InstanceId);
                await Task.Delay(TimeSpan.FromSeconds(2), time, _stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Sends a batch in order; stops at the first sign that the instance is disconnected (the rest stays queued).</summary>
    private async Task SendBatchAsync(WapBridgeDbContext db, IEngineSession session, List<Message> batch)
    {
        // Persist "sending" before the engine sees the messages: a crash after this line resends them with the same ids.
        var ids = batch.Select(m => m.Id).ToList();
        await db.Messages
            .Where(m => ids.Contains(m.Id) && (m.Status == MessageStatuses.Queued || m.Status == MessageStatuses.Sending))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, MessageStatuses.Sending).SetProperty(m => m.Attempts, m => m.Attempts + 1), _stopping);

        var sent = new List<Message>(batch.Count);
        var unsent = new List<long>();
        var failures = new List<(Message Message, string Code, string Error)>();
        foreach (var message in batch)
        {
            if (unsent.Count > 0)
            {
                unsent.Add(message.Id);
                continue;
            }
            var (outcome, code, error) = await SendAsync(session, message);
            switch (outcome)
            {
                case SendOutcomeKind.Sent: sent.Add(message); break;
                case SendOutcomeKind.Disconnected: unsent.Add(message.Id); break;
                default: failures.Add((message, code!, error!)); break;
            }
        }

        var now = time.GetUtcNow();
        if (sent.Count > 0)
        {
            var sentIds = sent.Select(m => m.Id).ToList();
            await db.Messages.Where(m => sentIds.Contains(m.Id) && m.Status == MessageStatuses.Sending).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatuses.Sent)
                .SetProperty(m => m.Ack, (int)MessageAck.Server)
                .SetProperty(m => m.SentAt, now), CancellationToken.None);
            foreach (var message in sent)
                outcomes.Report(message.WaMessageId, MessageStatuses.Sent);
        }
        if (unsent.Count > 0)
            await db.Messages.Where(m => unsent.Contains(m.Id) && m.Status == MessageStatuses.Sending)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, MessageStatuses.Queued), CancellationToken.None);
        foreach (var (message, code, error) in failures)
            await FailAsync(db, message, code, error);
    }

    private enum SendOutcomeKind { Sent, Disconnected, Failed }

    private async Task<(SendOutcomeKind Outcome, string? Code, string? Error)> SendAsync(IEngineSession session, Message message)
    {
        EngineMedia? file = null;
        if (message.MediaHash is not null)
        {
            var path = await media.GetLocalPathAsync(message.MediaHash, _stopping);
            if (path is null)
                return (SendOutcomeKind.Failed, "media_missing", "The stored media file is missing from the media folder.");
            file = EngineMedia.FromFile(path, message.MediaSize ?? new FileInfo(path).Length, message.MimeType!, message.Filename);
        }
        try
        {
            var result = await session.SendAsync(new OutgoingMessage(message.WaMessageId, message.ToNumber!, file is null ? message.Body : null, file, message.Caption), _stopping);
            if (result.Accepted) return (SendOutcomeKind.Sent, null, null);
            if (result.ErrorCode == "not_connected") return (SendOutcomeKind.Disconnected, null, null);
            return (SendOutcomeKind.Failed, result.ErrorCode ?? "send_failed", result.Error ?? "WhatsApp refused the message.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Engine send of {MessageId} threw; it stays queued", message.SerializedId);
            return (SendOutcomeKind.Disconnected, null, null);
        }
    }

    private async Task FailAsync(WapBridgeDbContext db, Message message, string code, string error)
    {
        await db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, MessageStatuses.Failed)
            .SetProperty(m => m.Ack, (int)MessageAck.Error)
            .SetProperty(m => m.ErrorCode, code)
            .SetProperty(m => m.Error, error), CancellationToken.None);
        outcomes.Report(message.WaMessageId, MessageStatuses.Failed);
    }

    private sealed class Worker(int instanceId) : AsyncSignal
    {
        private Task? _running;
        private readonly Lock _gate = new();

        public int InstanceId { get; } = instanceId;

        public void EnsureRunning(Func<Task> start)
        {
            lock (_gate)
            {
                if (_running is null || _running.IsCompleted)
                    _running = Task.Run(start);
            }
        }
    }
}
