using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core.Campaigns;

/// <summary>
/// Works one campaign for a bounded slice of time, one recipient at a time: <c>pending → sending</c>
/// together with its queued message (same transaction, WhatsApp id chosen), then waits for the outbox
/// to send it (<see cref="CampaignRecipientSync"/> then moves the recipients to their messages' statuses), then
/// spaces the next one. Everything it knows is in the rows, so a runner killed at any
/// line is simply run again; a lease keeps two runners off the same campaign. A campaign that checks numbers first
/// sends only to recipients <see cref="CampaignNumberCheck"/> has screened.
/// </summary>
public sealed class CampaignRunner(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    ClusterReadiness readiness,
    MessageDispatcher dispatcher,
    MessageOutcomes outcomes,
    CampaignRecipientSync recipientSync,
    CampaignNumberCheck numberCheck,
    NewContactBudget budget,
    LiveNotices notices,
    GatewayMetrics metrics,
    LocalInstances local,
    WebhookOutbox webhooks,
    ICampaignScheduler scheduler,
    IOptions<CampaignOptions> options,
    IOptions<MessagingOptions> messaging,
    TimeProvider time,
    ILogger<CampaignRunner> logger)
{
    private static readonly TimeSpan DisconnectedRecheck = TimeSpan.FromSeconds(30);

    public async Task RunAsync(long campaignId, CancellationToken ct)
    {
        // A job left from before a restart may start before this node's silo is up.
        await readiness.WaitForSiloAsync(ct);
        var start = time.GetUtcNow();
        var lease = start + options.Value.RunnerSlice + TimeSpan.FromMinutes(1);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var claimed = await db.Campaigns.Where(c => c.Id == campaignId && c.State == CampaignState.Running
                    && (c.RunnerLeaseUntil == null || c.RunnerLeaseUntil < start))
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, lease), ct);
            if (claimed == 0)
                return;
        }

        (bool Now, DateTimeOffset? At) next = (false, null);
        try
        {
            next = await WorkAsync(campaignId, start + options.Value.RunnerSlice, ct);
        }
        finally
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.Campaigns.Where(c => c.Id == campaignId && c.RunnerLeaseUntil == lease)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
        }
        // Only after the lease is released, or the next runner would find the campaign taken.
        if (next.Now)
            scheduler.RunNow(campaignId);
        else if (next.At is { } at)
            scheduler.RunAt(campaignId, at);
    }

    private async Task<(bool Now, DateTimeOffset? At)> WorkAsync(long campaignId, DateTimeOffset sliceEnd, CancellationToken ct)
    {
        var lastProgress = DateTimeOffset.MinValue;
        while (!ct.IsCancellationRequested)
        {
            var roundStarted = Stopwatch.GetTimestamp();
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var campaign = await db.Campaigns.AsNoTracking().SingleOrDefaultAsync(c => c.Id == campaignId, ct);
            if (campaign is null || campaign.State != CampaignState.Running)
                return (false, null);
            var now = time.GetUtcNow();
            // Spacing lives in the row, not in one runner's memory: a second job for the campaign (queued twice, or by
            // the recovery sweep while the first was slow to start) waits for the previous runner's next send instead
            // of sending at once. A wait with a reason (disconnected, active hours, caps, holds) is looked at again
            // now instead: what it waited for may be over.
            if (campaign.PausedReason is null && campaign.NextSendAt is { } due && due > now)
            {
                if (due > sliceEnd || due - now > options.Value.LongestInJobWait)
                    return (false, due);
                await Task.Delay(due - now, time, ct);
                continue;
            }

            // From the database, not this node's memory: the instance may live on another node.
            var instance = await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == campaign.InstanceId, ct);
            if (instance is null || instance.State != InstanceState.Connected)
            {
                var state = instance?.State.ToWire() ?? "deleted";
                await WaitingAsync(db, campaign, $"instance {state}: waiting for it to reconnect", now + DisconnectedRecheck, ct);
                return (false, now + DisconnectedRecheck);
            }
            if (CampaignThrottle.NextWindow(campaign.ActiveFrom, campaign.ActiveUntil, campaign.TimeZone, now) is { } opens)
            {
                await WaitingAsync(db, campaign, $"outside active hours {campaign.ActiveFrom}–{campaign.ActiveUntil} ({campaign.TimeZone})", opens, ct);
                return (false, opens);
            }
            if (await CapReachedAsync(db, campaign, now, ct) is { } cap)
            {
                await WaitingAsync(db, campaign, cap.Reason, cap.Until, ct);
                return (false, cap.Until);
            }

            // Unfinished sends first (a crash, or a disconnect, left them in "sending"), then new ones.
            // Index seeks on (CampaignId, State, Id); one query ordering by state would sort every pending row.
            var unfinished = await NextAsync(db, campaignId, RecipientState.Sending, 1, ct);
            List<CampaignRecipient> batch;
            if (unfinished.Count > 0)
                batch = unfinished;
            else if (!campaign.CheckNumbersFirst)
                batch = await NextAsync(db, campaignId, RecipientState.Pending, BatchSizeFor(campaign), ct);
            else
            {
                var screened = await numberCheck.ScreenAsync(db, campaign, instance, ct);
                if (screened.WaitReason is { } why)
                {
                    await WaitingAsync(db, campaign, why, screened.ComeBackAt!.Value, ct);
                    return (false, screened.ComeBackAt);
                }
                if (screened.Sendable.Count == 0 && screened.ComeBackAt is { } lookupAt)
                {
                    // The look-ups' own pace: waited like spacing, but without a reason to show (the campaign is not held up).
                    await db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s.SetProperty(c => c.NextSendAt, lookupAt), ct);
                    if (lookupAt > sliceEnd || lookupAt - now > options.Value.LongestInJobWait)
                        return (false, lookupAt);
                    await Task.Delay(lookupAt - now, time, ct);
                    continue;
                }
                if (screened.Sendable.Count == 0 && screened.Window > 0)
                {
                    // The whole window was not on WhatsApp: on to the next one.
                    if (time.GetUtcNow() >= sliceEnd)
                        return (true, null);
                    continue;
                }
                batch = screened.Sendable.Take(BatchSizeFor(campaign)).ToList();
            }
            if (batch.Count == 0)
            {
                await CompleteAsync(db, campaign, ct);
                return (false, null);
            }
            // The outbox holds a first message the budget has no room for; the campaign waits instead of queueing more.
            var wait = unfinished.Count > 0 ? await HeldAsync(db, instance, unfinished[0], now, ct) : await OverBudgetAsync(instance, batch, ct);
            if (wait is { } held)
            {
                await WaitingAsync(db, campaign, held.Reason, held.Until, ct);
                return (false, held.Until);
            }
            if (campaign.PausedReason is not null)
                await db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s.SetProperty(c => c.PausedReason, (string?)null), ct);

            var sent = unfinished.Count > 0
                ? await ResumeSendingAsync(db, unfinished[0], instance, ct)
                : await SendAsync(db, campaign, instance, batch, ct);

            now = time.GetUtcNow();
            if (now - lastProgress >= options.Value.ProgressEvery)
            {
                lastProgress = now;
                await ProgressEventAsync(campaign.Id, WebhookEvents.CampaignProgress, ct);
            }

            var delay = sent ? Spacing(campaign) : TimeSpan.Zero;
            var nextAt = now + delay;
            await db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s.SetProperty(c => c.NextSendAt, nextAt), ct);
            // Long waits are scheduled, not slept: a sleeping runner would hold a job worker other campaigns need.
            if (nextAt > sliceEnd || delay > options.Value.LongestInJobWait)
                return (false, nextAt);
            if (delay > TimeSpan.Zero)
                await Task.Delay(delay, time, ct);
            else if (sent)
                await Task.Delay(Stopwatch.GetElapsedTime(roundStarted) * UnthrottledRest, ct);
            if (time.GetUtcNow() >= sliceEnd)
                return (true, null);
        }
        return (true, null);
    }

    /// <summary>
    /// Without spacing or caps nothing is gained by sending one at a time: a batch costs one transaction and one
    /// wait for many recipients. Throttled campaigns go one recipient per round, as their spacing needs.
    /// </summary>
    private static int BatchSizeFor(Campaign campaign) =>
        CampaignThrottle.IsUnthrottled(campaign.MaxDelaySeconds, campaign.HourlyLimit, campaign.DailyLimit) ? UnthrottledBatch : 1;

    private const int UnthrottledBatch = 100;

    // An unthrottled campaign would otherwise run flat out, and with its outbox and receipts keep a small host's cores
    // busy: after each round it rests half as long as the round took, leaving a third of the time to the API and the
    // dashboard (campaign_status stayed under 10 ms at p99 only then). Wall-clock pacing, not campaign time.
    private const double UnthrottledRest = 0.5;

    /// <summary>Left in "sending" by a crash or a disconnect: waits for its send only if it has not happened yet.</summary>
    private async Task<bool> ResumeSendingAsync(WapBridgeDbContext db, CampaignRecipient recipient, Instance instance, CancellationToken ct)
    {
        var messageId = recipient.MessageId!.Value;
        var unsent = await db.Messages.AsNoTracking()
            .Where(m => m.Id == messageId && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending))
            .Select(m => m.WaMessageId).SingleOrDefaultAsync(ct);
        await AwaitSendsAsync(instance, unsent is null ? [] : [unsent], unsent is null ? [] : [outcomes.WatchAsync(unsent)], ct);
        await recipientSync.SyncAsync(recipient.CampaignId, [messageId], ct);
        return true;
    }

    /// <summary>Pending recipients; answers whether a message went to the outbox (and so spacing applies).</summary>
    private async Task<bool> SendAsync(WapBridgeDbContext db, Campaign campaign, Instance instance, List<CampaignRecipient> recipients, CancellationToken ct)
    {
        // One trace per batch: its messages' sends and webhooks continue it (OutboundMessages.New keeps it on each row).
        using var activity = WapBridgeTelemetry.StartRoot(TraceNames.CampaignSend);
        activity?.SetTag(TraceNames.CampaignTag, campaign.Code);
        activity?.SetTag(TraceNames.InstanceTag, instance.Code);
        activity?.SetTag(TraceNames.CountTag, recipients.Count);
        var now = time.GetUtcNow();
        var numbers = recipients.Select(r => r.Number!).ToList();
        var suppressed = (await db.Suppressions.AsNoTracking().Where(s => s.CustomerId == campaign.CustomerId && numbers.Contains(s.Number))
            .Select(s => s.Number).ToListAsync(ct)).ToHashSet();
        var settled = new List<RecipientMove>();
        var sends = new List<(CampaignRecipient Recipient, Message Message)>(recipients.Count);
        var media = campaign.MediaHash is null ? null
            : new StoredMedia(campaign.MediaHash, campaign.MimeType!, campaign.Filename!, 0, Engines.WhatsAppIds.MessageTypeFor(campaign.MimeType));
        foreach (var recipient in recipients)
        {
            if (suppressed.Contains(recipient.Number!))
            {
                settled.Add(new RecipientMove(recipient, RecipientState.Skipped, "opted out"));
                continue;
            }
            var variables = recipient.Variables is null ? null : JsonNode.Parse(recipient.Variables) as JsonObject;
            Message? message;
            IReadOnlyList<string> missing;
            if (campaign.TemplateName is not null)
            {
                (message, missing) = CampaignTemplateMessages.New(campaign, instance, recipient.Number!, variables, now, messaging.Value.QueuedTimeToLive);
            }
            else
            {
                (var text, missing) = CampaignTemplate.Render(campaign.MediaHash is null ? campaign.MessageText : campaign.Caption, variables, recipient.Number!);
                message = missing.Count > 0 ? null
                    : OutboundMessages.New(instance, recipient.Number!, text, media, text, MessageSources.Campaign, campaign.Id, now, messaging.Value.QueuedTimeToLive);
            }
            if (message is null)
            {
                settled.Add(new RecipientMove(recipient, RecipientState.Failed, $"missing variable {string.Join(", ", missing)}: add it to this recipient"));
                continue;
            }
            sends.Add((recipient, message));
        }
        await (await CampaignProgress.AdvanceManyAsync(db, settled, now, ct)).RecordAsync(metrics, campaign.InstanceId);
        if (sends.Count == 0)
            return false;

        // The messages and the recipients' claims on them commit together: after a crash each recipient is either
        // still pending (nothing queued) or sending with its message id (resent with it).
        // Watched before they are saved: the outbox may report a send before this method looks again.
        var watched = sends.Select(x => x.Message.WaMessageId).ToList();
        var sendOutcomes = watched.Select(outcomes.WatchAsync).ToList();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // Locks the campaign row first, as a cancel does: a cancel either sees this batch's messages and withdraws
            // them, or commits first and this claim finds the campaign no longer running.
            var running = await db.Campaigns.Where(c => c.Id == campaign.Id && c.State == CampaignState.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, c => c.RunnerLeaseUntil), ct);
            if (running == 0)
            {
                await tx.RollbackAsync(ct);
                watched.ForEach(outcomes.Forget);
                return false;
            }
            await OutboundMessages.InsertAsync(db, sends.ConvertAll(x => x.Message), ct);
            if (!await CampaignRecipientWriter.ClaimAsync(db, sends, now, ct))
            {
                // Another runner got there first (a lease that lapsed): leave the whole batch to it.
                await tx.RollbackAsync(ct);
                db.ChangeTracker.Clear();
                watched.ForEach(outcomes.Forget);
                return false;
            }
            await tx.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();
        await metrics.RecordAcceptedAsync(sends.ConvertAll(x => x.Message));
        await AwaitSendsAsync(instance, watched, sendOutcomes, ct);
        await recipientSync.SyncAsync(campaign.Id, sends.ConvertAll(x => x.Message.Id), ct);
        return true;
    }

    /// <summary>Wakes the outbox and waits, bounded, for these sends; unsent ones stay "sending" and are looked at again next round.</summary>
    private async Task AwaitSendsAsync(Instance instance, IReadOnlyList<string> waMessageIds, IReadOnlyList<Task<MessageStatus>> sendOutcomes, CancellationToken ct)
    {
        dispatcher.Wake(instance);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            var sent = (Task)Task.WhenAll(sendOutcomes);
            // The outbox reports in memory on the node the instance lives on; the runner may run on another node.
            if (waMessageIds.Count > 0 && !local.Hosts(instance.Id))
                sent = Task.WhenAny(sent, MessageOutcomes.FromRowsAsync(dbFactory, instance.Id, waMessageIds, time, stopReading.Token)).Unwrap();
            await sent.WaitAsync(options.Value.SendWait, time, ct);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            await stopReading.CancelAsync();
            foreach (var id in waMessageIds)
                outcomes.Forget(id);
        }
    }

    private static Task<List<CampaignRecipient>> NextAsync(WapBridgeDbContext db, long campaignId, RecipientState state, int count, CancellationToken ct) =>
        db.CampaignRecipients.AsNoTracking().Where(r => r.CampaignId == campaignId && r.State == state).OrderBy(r => r.Id).Take(count).ToListAsync(ct);

    private static TimeSpan Spacing(Campaign campaign)
    {
        var seconds = campaign.MinDelaySeconds + Random.Shared.NextDouble() * (campaign.MaxDelaySeconds - campaign.MinDelaySeconds);
        // Rows stored before the throttle was range-checked may hold NaN or 1e308: wait at most a day, never overflow.
        return TimeSpan.FromSeconds(double.IsNaN(seconds) ? 0 : Math.Clamp(seconds, 0, CampaignThrottle.MaxDelayAllowed));
    }

    private static async Task<(string Reason, DateTimeOffset Until)?> CapReachedAsync(WapBridgeDbContext db, Campaign campaign, DateTimeOffset now, CancellationToken ct)
    {
        if (campaign.HourlyLimit is null && campaign.DailyLimit is null)
            return null;
        var dayAgo = now.AddDays(-1);
        var recent = await db.Messages.AsNoTracking()
            .Where(m => m.InstanceId == campaign.InstanceId && m.Source == MessageSources.Campaign && m.CreatedAt > dayAgo)
            .Select(m => m.CreatedAt).ToListAsync(ct);
        var hourAgo = now.AddHours(-1);
        if (campaign.HourlyLimit is { } hourly && recent.Count(t => t > hourAgo) is var lastHour && lastHour >= hourly)
            return ($"hourly limit of {hourly} reached", recent.Where(t => t > hourAgo).Order().Skip(lastHour - hourly).First().AddHours(1));
        if (campaign.DailyLimit is { } daily && recent.Count >= daily)
            return ($"daily limit of {daily} reached", recent.Order().Skip(recent.Count - daily).First().AddDays(1));
        return null;
    }

    /// <summary>
    /// Cuts <paramref name="batch"/> (in order) to the recipients today's new-contact budget lets through: known
    /// contacts always, new ones while it lasts (contract §12). Nothing left to send: why, and the local midnight it resets.
    /// </summary>
    private async Task<(string Reason, DateTimeOffset Until)?> OverBudgetAsync(Instance instance, List<CampaignRecipient> batch, CancellationToken ct)
    {
        var today = await budget.StatusAsync(instance, ct);
        if (today.OverriddenUntil is not null || today.LeftToday >= batch.Count)
            return null;
        var left = today.LeftToday;
        var within = 0;
        foreach (var recipient in batch)
        {
            if (!await budget.IsKnownAsync(instance.Id, recipient.Number!, ct))
            {
                if (left == 0)
                    break;
                left--;
            }
            within++;
        }
        if (within > 0)
        {
            batch.RemoveRange(within, batch.Count - within);
            return null;
        }
        return (BudgetSpent(instance, today), today.ResetsAt);
    }

    private static string BudgetSpent(Instance instance, NewContactBudgetStatus today)
    {
        var zone = InstanceTimeZones.Of(instance);
        return $"new-contact budget for today used ({today.UsedToday} of {today.Allowance}); resumes at {TimeZoneInfo.ConvertTime(today.ResetsAt, zone):yyyy-MM-dd HH:mm} ({zone.Id})";
    }

    /// <summary>
    /// The recipient's message waits in the outbox (another send took the budget's last slot first, a restriction):
    /// why, and until when.
    /// </summary>
    private async Task<(string Reason, DateTimeOffset Until)?> HeldAsync(WapBridgeDbContext db, Instance instance, CampaignRecipient recipient, DateTimeOffset now,
        CancellationToken ct)
    {
        var messageId = recipient.MessageId!.Value;
        var hold = await db.Messages.AsNoTracking().Where(m => m.Id == messageId && m.Status == MessageStatus.Queued && m.HoldReason != null && m.NextSendAt > now)
            .Select(m => new { m.HoldReason, m.NextSendAt }).SingleOrDefaultAsync(ct);
        if (hold is null)
            return null;
        var reason = hold.HoldReason == SendFailurePolicy.NewContactBudget
            ? BudgetSpent(instance, await budget.StatusAsync(instance, ct))
            : $"the message to {recipient.Number} is held ({hold.HoldReason}) until {hold.NextSendAt:u}";
        return (reason, hold.NextSendAt!.Value);
    }

    private static Task WaitingAsync(WapBridgeDbContext db, Campaign campaign, string reason, DateTimeOffset until, CancellationToken ct) =>
        db.Campaigns.Where(c => c.Id == campaign.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.PausedReason, reason).SetProperty(c => c.NextSendAt, until), ct);

    private async Task CompleteAsync(WapBridgeDbContext db, Campaign campaign, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        // Pending (kept with the rows in each transaction) guards against recipients added after this runner found none:
        // the add schedules a runner for them once its last chunk is stored.
        var completed = await db.Campaigns.Where(c => c.Id == campaign.Id && c.State == CampaignState.Running && c.Pending == 0).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.State, CampaignState.Completed)
            .SetProperty(c => c.CompletedAt, now)
            .SetProperty(c => c.PausedReason, (string?)null)
            .SetProperty(c => c.NextSendAt, (DateTimeOffset?)null), ct);
        if (completed > 0)
        {
            notices.CampaignChanged(campaign.CustomerId, campaign.Code);
            logger.LogInformation("Campaign {Campaign} completed", campaign.Code);
            await ProgressEventAsync(campaign.Id, WebhookEvents.CampaignCompleted, ct);
        }
    }

    private async Task ProgressEventAsync(long campaignId, string eventType, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await (from c in db.Campaigns.AsNoTracking()
                         join i in db.Instances on c.InstanceId equals i.Id
                         join cu in db.Customers on c.CustomerId equals cu.Id
                         where c.Id == campaignId
                         select new { c, InstanceCode = i.Code, CustomerCode = cu.Code }).SingleAsync(ct);
        var status = CampaignService.ToStatus(row.c, row.InstanceCode);
        var data = System.Text.Json.JsonSerializer.SerializeToNode(status, CampaignJson.Options)!.AsObject();
        await webhooks.SaveAsync(db, row.c.CustomerId, row.c.InstanceId, eventType,
            () => WebhookPayloads.Event(eventType, row.InstanceCode, row.CustomerCode, time.GetUtcNow(), data), ct);
    }
}

internal static class CampaignJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
