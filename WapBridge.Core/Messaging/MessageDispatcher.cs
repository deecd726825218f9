using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Messaging;

/// <summary>
/// The per-instance outbox: one worker per instance takes queued messages in priority order, marks each
/// <c>sending</c> before the engine sees it, sends it with its stored WhatsApp id under the instance's
/// rate limit, and records the outcome. A message found in <c>sending</c> (a crash mid-send) is sent
/// again with the same id, which WhatsApp collapses. A node's outbox sends for the instances living on it; a message
/// accepted elsewhere reaches it through the instance's actor (<see cref="Wake(Instance)"/>).
/// </summary>
public sealed class MessageDispatcher(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    LocalInstances local,
    IGrainFactory grains,
    Cluster.ClusterReadiness readiness,
    OutboxSender sender,
    MessageOutcomes outcomes,
    NewContactBudget budget,
    LiveNotices notices,
    GatewayMetrics metrics,
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
    private static readonly TimeSpan AwayPoll = TimeSpan.FromMinutes(1);

    private static readonly Action<ILogger, string, string, string, Exception?> LogSent = LoggerMessage.Define<string, string, string>(
        LogLevel.Debug, new EventId(1, "MessageSend"), "Send of {MessageId} through {Instance}: {Outcome}");

    private readonly ConcurrentDictionary<int, Worker> _workers = new();
    private CancellationToken _stopping = CancellationToken.None;
    private bool _started;

    /// <summary>Something was queued for the instance: its outbox looks now, on whichever node it lives.</summary>
    public void Wake(Instance instance)
    {
        if (local.Hosts(instance.Id))
            Wake(instance.Id);
        else
            grains.GetGrain<IInstanceGrain>(instance.Code).WakeOutboxAsync();
    }

    /// <summary>Something changed for this instance, which lives here (a message queued, it connected): look at its outbox now.</summary>
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
        // As when sessions opened before the outbox started: nothing goes out until the first resume pass has reopened
        // this node's instances (the simulator's recipients among them); the first sweep then wakes what waits.
        await readiness.WaitForInstancesAsync(stoppingToken);
        _started = true;
        await Sweeps.RunAsync(SweepAsync, () => options.Value.SweepInterval, time, logger, LogLevel.Error, "Outbox sweep failed", stoppingToken);
    }

    /// <summary>Expires what waited too long, then wakes the worker of every instance with queued or unfinished sends.</summary>
    private async Task SweepAsync(CancellationToken ct)
    {
        await ExpireAsync(ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var pending = await db.Messages.Where(m => m.Direction == Message.Outbound
                && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending))
            .Select(m => m.InstanceId).Distinct().ToListAsync(ct);
        foreach (var instanceId in pending.Where(local.Hosts))
            Wake(instanceId);
    }

    /// <summary>Queued messages past their time-to-live fail with <c>expired</c>, visibly.</summary>
    private async Task ExpireAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var expired = await db.Messages.Where(m => m.Status == MessageStatus.Queued && m.ExpiresAt < now)
            .Select(m => new { m.Id, m.WaMessageId, m.HoldReason, m.InstanceId, m.Type }).ToListAsync(ct);
        foreach (var (id, waId, hold, instanceId, kind) in expired.Select(e => (e.Id, e.WaMessageId, e.HoldReason, e.InstanceId, e.Type)))
        {
            // A held send fails with the reason it was held for, never silently (contract §12).
            var (code, error) = hold is null
                ? ("expired", "The instance stayed disconnected past the message's time-to-live (WapBridge:Messaging:QueuedTimeToLive).")
                : (hold, $"The send was held ({hold}) past the message's time-to-live (WapBridge:Messaging:QueuedTimeToLive).");
            var failed = await db.Messages.Where(m => m.Id == id && m.Status == MessageStatus.Queued).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatus.Failed)
                .SetProperty(m => m.Ack, (int)MessageAck.Error)
                .SetProperty(m => m.ErrorCode, code)
                .SetProperty(m => m.Error, error), ct);
            outcomes.Report(waId, MessageStatus.Failed);
            await metrics.RecordFailedAsync(instanceId, kind, code, failed);
        }
        foreach (var instanceId in expired.Select(e => e.InstanceId).Distinct())
            notices.MessagesChanged(instanceId);
        if (expired.Count > 0)
            logger.LogWarning("{Count} queued messages expired unsent", expired.Count);
    }

    private async Task RunWorkerAsync(Worker worker)
    {
        // The worker outlives whatever woke it first (an API call): its sends continue their own messages' traces.
        Activity.Current = null;
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
                var session = local.Session(instance.Code);
                if (session is null)
                {
                    // The instance lives on another node (or nowhere yet): that node's outbox sends for it. Woken when it comes here.
                    await worker.WaitAsync(AwayPoll, time, _stopping);
                    continue;
                }
                if (instance.State != InstanceState.Connected)
                {
                    await worker.WaitAsync(IdlePoll, time, _stopping);
                    continue;
                }

                // Unthrottled, a batch is claimed and recorded with one write each; throttled, one message at a time.
                var rate = options.Value.InstanceMessagesPerSecond;
                var due = time.GetUtcNow();
                var batch = await db.Messages.AsNoTracking()
                    .Where(m => m.InstanceId == worker.InstanceId && m.Direction == Message.Outbound
                        && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending)
                        && (m.NextSendAt == null || m.NextSendAt <= due))
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
                await SendBatchAsync(db, instance, session, batch);
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
    private async Task SendBatchAsync(WapBridgeDbContext db, Instance instance, IEngineSession session, List<Message> batch)
    {
        // Persist "sending" before the engine sees the messages: a crash after this line resends them with the same ids.
        // A hold ends here (a receipt may overtake the "sent" update below); a send held again gets its hold back.
        var ids = batch.Select(m => m.Id).ToList();
        var claimed = await db.Messages
            .Where(m => ids.Contains(m.Id) && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, MessageStatus.Sending).SetProperty(m => m.Attempts, m => m.Attempts + 1)
                .SetProperty(m => m.HoldReason, (string?)null).SetProperty(m => m.NextSendAt, (DateTimeOffset?)null), _stopping);
        if (claimed < batch.Count)
        {
            // Some left the queue since the batch was read (a cancelled campaign withdrew them): never send those.
            var sending = (await db.Messages.Where(m => ids.Contains(m.Id) && m.Status == MessageStatus.Sending).Select(m => m.Id).ToListAsync(_stopping)).ToHashSet();
            batch = batch.Where(m => sending.Contains(m.Id)).ToList();
            if (batch.Count == 0)
                return;
        }

        var sent = new List<Message>(batch.Count);
        var unsent = new List<long>();
        var retried = new List<(long Id, DateTimeOffset At)>();
        var held = new List<(Message Message, string Reason, DateTimeOffset Until)>();
        var failures = new List<(Message Message, string Code, string Error)>();
        var restrictedUntil = instance.RestrictedUntil;
        var stopped = false;
        foreach (var message in batch)
        {
            if (stopped)
            {
                unsent.Add(message.Id);
                continue;
            }
            // Each send continues the trace that accepted its message, however long it waited and wherever.
            using var activity = WapBridgeTelemetry.StartFrom(TraceNames.MessageSend, message.TraceParent);
            activity?.SetTag(TraceNames.InstanceTag, instance.Code);
            activity?.SetTag(TraceNames.MessageTag, message.Id);
            var now = time.GetUtcNow();
            // While WhatsApp restricts the account (463, a reach-out timelock) only conversations that already exist get
            // messages: any other send would be refused and deepen the restriction. Contract §12 speaks of contacts who
            // wrote first (KnownContactSources.WroteFirst); a contact WhatsApp synced or one we talked with before is
            // no stranger either, and WhatsApp lets those through.
            if (restrictedUntil > now && !await IsKnownAsync(db, instance.Id, message.ToNumber))
            {
                held.Add((message, SendFailurePolicy.AccountRestricted, restrictedUntil.Value));
                Traced(activity, instance, message, "held", SendFailurePolicy.AccountRestricted);
                continue;
            }
            var (outcome, code, error, until) = await sender.SendAsync(instance, session, message, _stopping);
            switch (outcome)
            {
                case OutboxSendKind.Sent: sent.Add(message); Traced(activity, instance, message, "sent"); break;
                case OutboxSendKind.Disconnected: unsent.Add(message.Id); stopped = true; Traced(activity, instance, message, "requeued"); break;
                case OutboxSendKind.Held: held.Add((message, code!, until!.Value)); Traced(activity, instance, message, "held", code); break;
                default:
                    var decision = SendFailurePolicy.Decide(code);
                    if (decision.Action == SendFailureAction.Retry)
                    {
                        logger.LogInformation("Send of {MessageId} hit a transient failure ({Code}); it is retried", message.SerializedId, code);
                        retried.Add((message.Id, now + SendFailurePolicy.RetryDelay(message.Attempts + 1)));
                        stopped = true; // the rest of the batch waits for the next round
                        Traced(activity, instance, message, "retried", code);
                    }
                    else if (decision.Action == SendFailureAction.Hold)
                    {
                        restrictedUntil = until ?? now + SendFailurePolicy.DefaultRestriction;
                        held.Add((message, decision.HoldReason!, restrictedUntil.Value));
                        await grains.GetGrain<IInstanceGrain>(instance.Code).ReportRestrictionAsync(restrictedUntil.Value, $"WhatsApp refused a message to a new contact ({code}: {error})");
                        Traced(activity, instance, message, "held", code);
                    }
                    else
                    {
                        failures.Add((message, code!, error!));
                        Traced(activity, instance, message, "failed", code, failed: true);
                    }
                    break;
            }
        }

        var sentAt = time.GetUtcNow();
        if (sent.Count > 0)
        {
            var sentIds = sent.Select(m => m.Id).ToList();
            var marked = await db.Messages.Where(m => sentIds.Contains(m.Id) && m.Status == MessageStatus.Sending).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatus.Sent)
                .SetProperty(m => m.Ack, (int)MessageAck.Server)
                .SetProperty(m => m.SentAt, sentAt), CancellationToken.None);
            if (metrics.CountsOutcomes)
                await metrics.RecordSentAsync(instance.Id, marked == sent.Count ? sent : await MarkedSentAsync(db, sentIds, sentAt), sentAt);
            await OutgoingMessages.ApplySentAsync(db, sent, CancellationToken.None);
            foreach (var message in sent)
                outcomes.Report(message.WaMessageId, MessageStatus.Sent);
        }
        if (unsent.Count > 0)
            await db.Messages.Where(m => unsent.Contains(m.Id) && m.Status == MessageStatus.Sending)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, MessageStatus.Queued), CancellationToken.None);
        foreach (var (id, at) in retried)
            await db.Messages.Where(m => m.Id == id && m.Status == MessageStatus.Sending).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatus.Queued)
                .SetProperty(m => m.NextSendAt, at), CancellationToken.None);
        foreach (var (message, reason, until) in held)
        {
            await db.Messages.Where(m => m.Id == message.Id && m.Status == MessageStatus.Sending).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatus.Queued)
                .SetProperty(m => m.HoldReason, reason)
                .SetProperty(m => m.NextSendAt, until), CancellationToken.None);
            // Whoever waits for the send (an API call, a campaign) learns now that it waits, not when its bound runs out.
            outcomes.Report(message.WaMessageId, MessageStatus.Queued);
        }
        foreach (var (message, code, error) in failures)
            await FailAsync(db, message, code, error);
        notices.MessagesChanged(instance.CustomerId, instance.Code);
    }

    /// <summary>How the send went, on its span and (at debug level, with its trace id) in the log.</summary>
    private void Traced(Activity? activity, Instance instance, Message message, string outcome, string? code = null, bool failed = false)
    {
        activity.SetOutcome(outcome, code, failed);
        LogSent(logger, message.SerializedId, instance.Code, code is null ? outcome : $"{outcome} ({code})", null);
    }

    /// <summary>
    /// A chat the instance already has a conversation with. A number: a known contact (<see cref="NewContactBudget"/>).
    /// A group or a LID chat, which known contacts do not list: one somebody wrote to us from.
    /// </summary>
    private Task<bool> IsKnownAsync(WapBridgeDbContext db, int instanceId, string? chat) =>
        chat is null ? Task.FromResult(false)
            : OutgoingMessages.IsAddressedAsIs(chat)
                ? db.Messages.AnyAsync(m => m.InstanceId == instanceId && m.Direction == Message.Inbound && (m.FromNumber == chat || m.Chat == chat), _stopping)
                : budget.IsKnownAsync(instanceId, chat, _stopping);

    /// <summary>
    /// The rows the "sent" update moved, when a receipt overtook it for some (which then counted them as sent): a receipt
    /// keeps the <c>SentAt</c> it finds, so these are the ones carrying this update's.
    /// </summary>
    private static async Task<List<Message>> MarkedSentAsync(WapBridgeDbContext db, List<long> sentIds, DateTimeOffset sentAt) =>
        await db.Messages.AsNoTracking().Where(m => sentIds.Contains(m.Id) && m.SentAt == sentAt).ToListAsync(CancellationToken.None);

    private async Task FailAsync(WapBridgeDbContext db, Message message, string code, string error)
    {
        var failed = await db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, MessageStatus.Failed)
            .SetProperty(m => m.Ack, (int)MessageAck.Error)
            .SetProperty(m => m.ErrorCode, code)
            .SetProperty(m => m.Error, error), CancellationToken.None);
        outcomes.Report(message.WaMessageId, MessageStatus.Failed);
        await metrics.RecordFailedAsync(message.InstanceId, message.Type, code, failed);
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
