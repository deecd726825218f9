using System.Data.Common;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Campaigns;

public sealed record NewCampaign(
    string? InstanceCode, string? Name, string? Message, JsonNode? Recipients, MediaUpload? MediaData, string? MimeType, string? Filename,
    string? Caption, DateTimeOffset? ScheduledAt, JsonObject? Throttle, bool CheckNumbersFirst = false, string? Template = null, string? Language = null);

public sealed record InvalidRecipient(string Input, string Error);

public sealed record RecipientsAdded(string Campaign, int Added, int Duplicates, IReadOnlyList<InvalidRecipient> Invalid, int Skipped, int Total);

public sealed record CampaignStatus(
    string Campaign, string CampaignName, string InstanceId, CampaignState Status, int Total, int Pending, int Sent, int Delivered, int Read, int Failed,
    int Invalid, int Duplicates, int Skipped, int Cancelled, double Progress, DateTimeOffset CreatedAt, DateTimeOffset? ScheduledAt, DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt, string? PausedReason, DateTimeOffset? NextSendAt, long? EtaSeconds, bool CheckNumbersFirst = false,
    string? Template = null, string? Language = null);

public sealed record RecipientView(long Id, string Input, string? Number, RecipientState State, string? Error, string? MessageId, int Attempts, DateTimeOffset UpdatedAt, JsonObject? Variables);

/// <summary>Contract §3: create, add recipients, status, pause, resume, cancel, list; every call scoped to the customer.</summary>
public sealed class CampaignService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceService instances,
    ICampaignScheduler scheduler,
    CampaignTemplateCheck templateCheck,
    MessageOutcomes outcomes,
    LiveNotices notices,
    GatewayMetrics metrics,
    IOptions<CampaignOptions> options,
    IOptions<MessagingOptions> messaging,
    IOptions<AccountOptions> accounts,
    TimeProvider time,
    ILogger<CampaignService> logger)
{
    /// <summary>
    /// Stores the campaign hidden (<see cref="CampaignState.Creating"/>), its recipients chunk by chunk in their own
    /// transactions, and only then shows it as running or scheduled: a big list never holds the database's writer for
    /// long, and nobody sees, runs or counts half a campaign. A failure removes what was stored.
    /// </summary>
    public async Task<(CampaignStatus Status, RecipientsAdded Added)> CreateAsync(int customerId, NewCampaign request, CancellationToken ct = default)
    {
        var instance = await instances.FindAsync(customerId, request.InstanceCode, ct);
        var throttle = CampaignThrottle.Parse(request.Throttle, options.Value);
        var template = templateCheck.Choice(instance, request);
        if (template is null && request.MediaData is null && string.IsNullOrWhiteSpace(request.Message))
            throw WapBridgeException.Missing("message");
        if (request.Recipients is null)
            throw WapBridgeException.Missing("recipients");
        var now = time.GetUtcNow();
        if (request.ScheduledAt is { } at && at > now.AddYears(1))
            throw WapBridgeException.Invalid("scheduled_at", "out_of_range", "scheduled_at must be within a year");
        var name = string.IsNullOrWhiteSpace(request.Name) ? null : request.Name.Trim();
        if (name is { Length: > 140 })
            throw WapBridgeException.Invalid("campaign_name", "too_long", "campaign_name must be at most 140 characters");
        var items = CampaignRecipientParser.Items(request.Recipients, options.Value.MaxRecipientsPerRequest);
        CustomerQuotas quotas;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (throttle.Unthrottled && instance.Engine != SimulatorEngine.EngineName
                && !await db.Customers.Where(c => c.Id == customerId).Select(c => c.AllowUnthrottledCampaigns).SingleAsync(ct))
                throw UnthrottledRefused(instance);
            quotas = await CustomerQuotas.ReadAsync(db, customerId, accounts.Value.Quotas, ct);
        }
        quotas.EnsureRecipientsAllowed(0, items.Count);
        StoredMedia? stored = null;
        if (request.MediaData is { } upload)
        {
            var file = MediaValidator.Validate(upload, request.MimeType, request.Filename, messaging.Value.MediaLimits);
            quotas.EnsureMediaAllowed(file.Size);
            stored = new StoredMedia((await file.Upload.CommitAsync(ct)).Hash, file.MimeType, file.Filename, file.Size, file.Type);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var parsed = CampaignRecipientParser.Parse(items, instance.DefaultCountry);
        var parseTime = clock.Elapsed;
        // The template's body as Meta has it: checked now (approved, every recipient has its variables) when Meta answers.
        var templateBody = template is { } chosen ? await templateCheck.BodyAsync(instance, chosen.Name, chosen.Language, parsed, ct) : null;

        Campaign campaign;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var sequence = await SequenceGenerator.NextAsync(db, "campaign", ct);
            campaign = new Campaign
            {
                Code = Campaign.FormatCode(sequence),
                CustomerId = customerId,
                InstanceId = instance.Id,
                Name = name ?? $"Campaign {sequence}",
                MessageText = template is null ? request.Message : templateBody,
                TemplateName = template?.Name,
                TemplateLanguage = template?.Language,
                MediaHash = stored?.Hash,
                MimeType = stored?.MimeType,
                Filename = stored?.Filename,
                Caption = stored is null ? null : (request.Caption ?? request.Message),
                State = CampaignState.Creating,
                MinDelaySeconds = throttle.MinDelaySeconds,
                MaxDelaySeconds = throttle.MaxDelaySeconds,
                HourlyLimit = throttle.HourlyLimit,
                DailyLimit = throttle.DailyLimit,
                ActiveFrom = throttle.ActiveFrom,
                ActiveUntil = throttle.ActiveUntil,
                TimeZone = throttle.TimeZone,
                CheckNumbersFirst = request.CheckNumbersFirst,
                CreatedAt = now,
                ScheduledAt = request.ScheduledAt,
                RunnerLeaseUntil = now + options.Value.CreationLease,
            };
            db.Campaigns.Add(campaign);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        bool scheduled;
        RecipientsAdded added;
        try
        {
            added = await StoreRecipientsAsync(campaign, parsed, creating: true, ct);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            now = time.GetUtcNow();
            scheduled = request.ScheduledAt is { } when && when > now;
            var state = scheduled ? CampaignState.Scheduled : CampaignState.Running;
            DateTimeOffset? startedAt = scheduled ? null : now;
            var nextSendAt = scheduled ? request.ScheduledAt : now;
            var shown = await db.Campaigns.Where(c => c.Id == campaign.Id && c.State == CampaignState.Creating)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, state).SetProperty(c => c.StartedAt, startedAt)
                    .SetProperty(c => c.NextSendAt, nextSendAt).SetProperty(c => c.RunnerLeaseUntil, (DateTimeOffset?)null), ct);
            if (shown == 0)
                throw CreationInterrupted(campaign.Code);
            notices.CampaignChanged(customerId, campaign.Code);
        }
        catch
        {
            try
            {
                await DiscardUnfinishedAsync(campaign.Id, CancellationToken.None);
            }
            catch (Exception e)
            {
                // The original failure is the caller's answer; the recovery sweep deletes the rest once its lease runs out.
                logger.LogWarning(e, "Could not delete the unfinished campaign {Campaign}; the recovery sweep will", campaign.Code);
            }
            throw;
        }
        logger.LogInformation("Campaign {Campaign} created on {Instance}: {Total} recipients, {Invalid} invalid, {Duplicates} duplicates; " +
            "recipients read in {ParseMs} ms, stored in {StoreMs} ms",
            campaign.Code, instance.Code, added.Total, added.Invalid.Count, added.Duplicates,
            (long)parseTime.TotalMilliseconds, (long)(clock.Elapsed - parseTime).TotalMilliseconds);

        Schedule(campaign.Id, scheduled ? request.ScheduledAt : null);
        return (await StatusAsync(customerId, campaign.Code, ct), added);
    }

    // Names the throttle's fields in full, so the dashboard shows its own labels for them.
    internal static WapBridgeException UnthrottledRefused(Instance instance) =>
        WapBridgeException.Invalid("throttle", "unthrottled_refused",
            "throttle has no spacing and no limit (throttle.max_delay_seconds is 0, no throttle.hourly_limit or throttle.daily_limit): " +
            $"messaging many people back to back is what gets WhatsApp numbers banned, so instance {instance.Code} ({instance.Engine}) may not run it. " +
            "Set throttle.max_delay_seconds above 0, or a throttle.hourly_limit or throttle.daily_limit; only an Admin can allow unthrottled campaigns " +
            "for this customer (Admin page, or admin.update_customer allow_unthrottled_campaigns).");

    public async Task<RecipientsAdded> AddRecipientsAsync(int customerId, string? campaignCode, JsonNode? recipients, CancellationToken ct = default)
    {
        if (recipients is null)
            throw WapBridgeException.Missing("recipients");
        var items = CampaignRecipientParser.Items(recipients, options.Value.MaxRecipientsPerRequest);
        Campaign campaign;
        string? country;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            campaign = await FindAsync(db, customerId, campaignCode, ct);
            if (campaign.State is not (CampaignState.Running or CampaignState.Paused or CampaignState.Scheduled))
                throw new WapBridgeException(ErrorKind.Conflict, "campaign_finished",
                    $"Campaign {campaign.Code} is {campaign.State.ToWire()}; recipients can be added while it is running, paused or scheduled.", "campaign");
            // Every entry counts, invalid and duplicate ones too: each is a stored row.
            (await CustomerQuotas.ReadAsync(db, customerId, accounts.Value.Quotas, ct))
                .EnsureRecipientsAllowed((long)campaign.Total + campaign.Invalid + campaign.Duplicates, items.Count);
            country = await db.Instances.Where(i => i.Id == campaign.InstanceId).Select(i => i.DefaultCountry).SingleOrDefaultAsync(ct);
        }
        var parsed = CampaignRecipientParser.Parse(items, country);
        if (campaign.TemplateName is { } templateName && CampaignTemplateMessages.VariablesOf(campaign) is { } variables)
            CampaignTemplateMessages.EnsureVariables(templateName, variables, CampaignRecipientParser.Valid(parsed));
        RecipientsAdded added;
        try
        {
            added = await StoreRecipientsAsync(campaign, parsed, creating: false, ct);
        }
        catch (Exception e) when (e is DbException or DbUpdateException or InvalidOperationException or WapBridgeException { Code: "campaign_finished" })
        {
            // Deleting the instance deletes its campaigns: one deleted while its recipients were being added is a 404, as if
            // the delete had come first. When the add lost a deadlock to that delete, the delete commits a moment later.
            if (await StillExistsAsync(campaign.Id, waitForDelete: DatabaseErrors.IsRetryableConflict(e)))
                throw;
            throw WapBridgeException.NotFound("Campaign", campaign.Code, "campaign");
        }
        if (campaign.State == CampaignState.Running)
            Schedule(campaign.Id, null);
        return added;
    }

    private async Task<bool> StillExistsAsync(long campaignId, bool waitForDelete)
    {
        var deadline = time.GetUtcNow() + (waitForDelete ? TimeSpan.FromSeconds(2) : TimeSpan.Zero);
        while (true)
        {
            await using var check = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            if (!await check.Campaigns.AnyAsync(c => c.Id == campaignId, CancellationToken.None))
                return false;
            if (time.GetUtcNow() >= deadline)
                return true;
            await Task.Delay(TimeSpan.FromMilliseconds(50), time);
        }
    }

    /// <summary>
    /// Deletes a campaign that never finished being created, and its recipients, a chunk at a time (a big delete would
    /// hold SQLite's writer as long as the big insert did). A campaign that made it out of <see cref="CampaignState.Creating"/> stays.
    /// </summary>
    public async Task DiscardUnfinishedAsync(long campaignId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId && c.State == CampaignState.Creating, ct))
            return;
        var chunk = Math.Max(1, options.Value.InsertChunkSize);
        while (true)
        {
            var ids = await db.CampaignRecipients.Where(r => r.CampaignId == campaignId).Select(r => r.Id).Take(chunk).ToListAsync(ct);
            if (ids.Count == 0)
                break;
            await db.CampaignRecipients.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(ct);
        }
        await db.Campaigns.Where(c => c.Id == campaignId && c.State == CampaignState.Creating).ExecuteDeleteAsync(ct);
    }

    private static WapBridgeException CreationInterrupted(string code) =>
        new(ErrorKind.Conflict, "campaign_interrupted",
            $"Creating campaign {code} was interrupted (its instance was deleted, or the server restarted); create it again.");

    /// <summary>
    /// Stores recipients <see cref="CampaignOptions.InsertChunkSize"/> at a time, each chunk in its own transaction
    /// with the campaign's counters, so the writer is free between chunks and the counters always match the rows.
    /// </summary>
    private async Task<RecipientsAdded> StoreRecipientsAsync(Campaign campaign, List<ParsedRecipient> parsed, bool creating, CancellationToken ct)
    {
        var numbers = parsed.Where(p => p.Number is not null).Select(p => p.Number!).Distinct().ToList();
        HashSet<string> suppressed;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            suppressed = await SuppressedNumbersAsync(db, campaign.CustomerId, numbers, ct);

        // Numbers this request stored, so a number repeated in another chunk is a duplicate too.
        var stored = new HashSet<string>(numbers.Count);
        int added = 0, duplicates = 0, skipped = 0;
        var invalid = new List<InvalidRecipient>();
        foreach (var chunk in parsed.Chunk(Math.Max(1, options.Value.InsertChunkSize)))
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var now = time.GetUtcNow();
            // First, so the campaign is known to exist (and, on PostgreSQL, its row is locked against concurrent adds)
            // before anything is looked up or written; a creating campaign's lease is renewed with it.
            var lease = now + options.Value.CreationLease;
            var row = db.Campaigns.Where(c => c.Id == campaign.Id);
            var present = creating
                ? await row.Where(c => c.State == CampaignState.Creating).ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, lease), ct)
                : await row.Where(c => c.State == CampaignState.Running || c.State == CampaignState.Paused || c.State == CampaignState.Scheduled)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.RunnerLeaseUntil, c => c.RunnerLeaseUntil), ct);
            if (present == 0)
                throw creating ? CreationInterrupted(campaign.Code) : new WapBridgeException(ErrorKind.Conflict, "campaign_finished",
                    $"Campaign {campaign.Code} was cancelled, completed or deleted while recipients were being added; {added + duplicates + skipped + invalid.Count:N0} of them were stored.", "campaign");
            // A hidden campaign has only the rows this request stored; a visible one may have gained numbers from another request.
            var existing = creating ? new HashSet<string>() : await ExistingNumbersAsync(db, campaign.Id,
                chunk.Where(p => p.Number is not null && !stored.Contains(p.Number)).Select(p => p.Number!).Distinct().ToList(), ct);

            int chunkAdded = 0, chunkDuplicates = 0, chunkSkipped = 0, chunkInvalid = 0;
            var rows = new List<CampaignRecipient>(chunk.Length);
            foreach (var p in chunk)
            {
                var recipient = new CampaignRecipient { CampaignId = campaign.Id, RawInput = Truncate(p.Input, 200)!, Number = p.Number, Variables = p.Variables?.ToJsonString(), UpdatedAt = now };
                if (p.Number is null)
                {
                    recipient.State = RecipientState.Invalid;
                    recipient.Error = Truncate(p.Error, 300);
                    invalid.Add(new InvalidRecipient(p.Input, p.Error!));
                    chunkInvalid++;
                }
                else if (existing.Contains(p.Number) || !stored.Add(p.Number))
                {
                    recipient.State = RecipientState.Duplicate;
                    chunkDuplicates++;
                }
                else if (suppressed.Contains(p.Number))
                {
                    recipient.State = RecipientState.Skipped;
                    recipient.Error = "opted out";
                    chunkSkipped++;
                }
                else
                {
                    chunkAdded++;
                }
                rows.Add(recipient);
            }
            await CampaignRecipientWriter.InsertAsync(db, rows, ct);
            await db.Campaigns.Where(c => c.Id == campaign.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Total, c => c.Total + chunkAdded + chunkSkipped)
                .SetProperty(c => c.Pending, c => c.Pending + chunkAdded)
                .SetProperty(c => c.Skipped, c => c.Skipped + chunkSkipped)
                .SetProperty(c => c.Invalid, c => c.Invalid + chunkInvalid)
                .SetProperty(c => c.Duplicates, c => c.Duplicates + chunkDuplicates), ct);
            await tx.CommitAsync(ct);
            added += chunkAdded;
            duplicates += chunkDuplicates;
            skipped += chunkSkipped;
        }
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var total = await db.Campaigns.Where(c => c.Id == campaign.Id).Select(c => c.Total).SingleAsync(ct);
            return new RecipientsAdded(campaign.Code, added, duplicates, invalid, skipped, total);
        }
    }

    private static async Task<HashSet<string>> ExistingNumbersAsync(WapBridgeDbContext db, long campaignId, List<string> numbers, CancellationToken ct)
    {
        var existing = new HashSet<string>(numbers.Count);
        foreach (var chunk in numbers.Chunk(500))
            existing.UnionWith(await db.CampaignRecipients.Where(r => r.CampaignId == campaignId && r.Number != null && chunk.Contains(r.Number) && r.State != RecipientState.Duplicate)
                .Select(r => r.Number!).ToListAsync(ct));
        return existing;
    }

    /// <summary>
    /// A suppression list is usually far shorter than a big recipient list: read it whole when it is,
    /// rather than asking about the recipients 500 at a time.
    /// </summary>
    private static async Task<HashSet<string>> SuppressedNumbersAsync(WapBridgeDbContext db, int customerId, List<string> numbers, CancellationToken ct)
    {
        var customerList = db.Suppressions.Where(s => s.CustomerId == customerId);
        if (await customerList.CountAsync(ct) <= Math.Max(numbers.Count, 1000))
            return (await customerList.Select(s => s.Number).ToListAsync(ct)).ToHashSet();
        var suppressed = new HashSet<string>();
        foreach (var chunk in numbers.Chunk(500))
            suppressed.UnionWith(await customerList.Where(s => chunk.Contains(s.Number)).Select(s => s.Number).ToListAsync(ct));
        return suppressed;
    }

    public async Task<CampaignStatus> StatusAsync(int customerId, string? campaignCode, CancellationToken ct = default)
    {
        var code = CampaignCode(campaignCode);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // One round trip: this is what integrators poll.
        var found = await (from c in db.Campaigns.AsNoTracking()
                           where c.Code == code && c.CustomerId == customerId && c.State != CampaignState.Creating
                           join i in db.Instances on c.InstanceId equals i.Id
                           select new { c, i.Code }).SingleOrDefaultAsync(ct)
            ?? throw WapBridgeException.NotFound("Campaign", code, "campaign");
        return ToStatus(found.c, found.Code);
    }

    public async Task<PagedList<CampaignStatus>> ListAsync(int customerId, string? state, Paging paging, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Campaigns.AsNoTracking().Where(c => c.CustomerId == customerId && c.State != CampaignState.Creating);
        if (!string.IsNullOrWhiteSpace(state))
            // An unknown state matches no campaign, as it always has.
            query = WireNames.TryFromWire<CampaignState>(state.Trim().ToLowerInvariant(), out var wanted) ? query.Where(c => c.State == wanted) : query.Where(c => false);
        var total = await query.CountAsync(ct);
        var rows = await (from c in query.OrderByDescending(c => c.Id).Skip(paging.Offset).Take(paging.Limit)
                          join i in db.Instances on c.InstanceId equals i.Id
                          select new { c, i.Code }).ToListAsync(ct);
        return new PagedList<CampaignStatus>(rows.Select(r => ToStatus(r.c, r.Code)).ToList(), total, paging.Limit, paging.Offset);
    }

    public async Task<PagedList<RecipientView>> RecipientsAsync(int customerId, string? campaignCode, string? state, Paging paging, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await FindAsync(db, customerId, campaignCode, ct);
        var query = db.CampaignRecipients.AsNoTracking().Where(r => r.CampaignId == campaign.Id);
        if (!string.IsNullOrWhiteSpace(state))
            query = WireNames.TryFromWire<RecipientState>(state.Trim().ToLowerInvariant(), out var wanted) ? query.Where(r => r.State == wanted) : query.Where(r => false);
        var total = await query.CountAsync(ct);
        var rows = await (from r in query.OrderBy(r => r.Id).Skip(paging.Offset).Take(paging.Limit)
                          join m in db.Messages on r.MessageId equals m.Id into sent
                          from m in sent.DefaultIfEmpty()
                          select new { r, MessageId = m == null ? null : m.SerializedId }).ToListAsync(ct);
        return new PagedList<RecipientView>(rows.Select(x => new RecipientView(x.r.Id, x.r.RawInput, x.r.Number, x.r.State, x.r.Error, x.MessageId,
            x.r.Attempts, x.r.UpdatedAt, x.r.Variables is null ? null : JsonNode.Parse(x.r.Variables) as JsonObject)).ToList(), total, paging.Limit, paging.Offset);
    }

    public async Task<CampaignStatus> PauseAsync(int customerId, string? campaignCode, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await FindAsync(db, customerId, campaignCode, ct);
        await db.Campaigns.Where(c => c.Id == campaign.Id && (c.State == CampaignState.Running || c.State == CampaignState.Scheduled))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Paused).SetProperty(c => c.PausedReason, "paused by the owner")
                .SetProperty(c => c.NextSendAt, (DateTimeOffset?)null), ct);
        notices.CampaignChanged(customerId, campaign.Code);
        return await StatusAsync(customerId, campaign.Code, ct);
    }

    public async Task<CampaignStatus> ResumeAsync(int customerId, string? campaignCode, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await FindAsync(db, customerId, campaignCode, ct);
        var now = time.GetUtcNow();
        var resumed = await db.Campaigns.Where(c => c.Id == campaign.Id && c.State == CampaignState.Paused)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Running).SetProperty(c => c.PausedReason, (string?)null)
                .SetProperty(c => c.StartedAt, c => c.StartedAt ?? now).SetProperty(c => c.NextSendAt, now), ct);
        if (resumed > 0 || campaign.State == CampaignState.Running)
            Schedule(campaign.Id, null);
        notices.CampaignChanged(customerId, campaign.Code);
        return await StatusAsync(customerId, campaign.Code, ct);
    }

    /// <summary>Why a campaign's message still in the outbox at cancel time failed; the recipient says <c>cancelled</c>.</summary>
    public const string CancelledErrorCode = "campaign_cancelled";

    /// <summary>
    /// Stops the campaign for good: recipients not sent yet become <c>cancelled</c>, and so do those whose message the
    /// outbox has not picked up, whose messages fail first in the same transaction so the outbox never sends them.
    /// The campaign row is updated first: its lock orders this against a runner claiming recipients
    /// (<see cref="CampaignRunner"/>), so each recipient is either claimed and seen here, or cancelled before the claim.
    /// </summary>
    public async Task<CampaignStatus> CancelAsync(int customerId, string? campaignCode, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await FindAsync(db, customerId, campaignCode, ct);
        var now = time.GetUtcNow();
        List<string> unsent = [];
        var (withdrawn, cancelled, kind) = (0, 0, "chat");
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var stopped = await db.Campaigns.Where(c => c.Id == campaign.Id && c.State != CampaignState.Completed && c.State != CampaignState.Cancelled)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Cancelled).SetProperty(c => c.CompletedAt, now)
                    .SetProperty(c => c.NextSendAt, (DateTimeOffset?)null), ct);
            if (stopped > 0)
            {
                var queued = db.Messages.Where(m => m.CampaignId == campaign.Id && m.Direction == Message.Outbound && m.Status == MessageStatus.Queued);
                var rows = await queued.Select(m => new { m.WaMessageId, m.Type }).ToListAsync(ct);
                unsent = rows.ConvertAll(m => m.WaMessageId);
                // One campaign sends one kind of message.
                kind = rows.Count > 0 ? rows[0].Type : kind;
                if (unsent.Count > 0)
                    withdrawn = await queued.ExecuteUpdateAsync(s => s
                        .SetProperty(m => m.Status, MessageStatus.Failed)
                        .SetProperty(m => m.Ack, (int)MessageAck.Error)
                        .SetProperty(m => m.ErrorCode, CancelledErrorCode)
                        .SetProperty(m => m.Error, "Not sent: its campaign was cancelled."), ct);
                cancelled = await db.CampaignRecipients.Where(r => r.CampaignId == campaign.Id
                        && (r.State == RecipientState.Pending || (r.State == RecipientState.Sending
                            && db.Messages.Any(m => m.Id == r.MessageId && m.Status == MessageStatus.Failed && m.ErrorCode == CancelledErrorCode))))
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, RecipientState.Cancelled).SetProperty(r => r.UpdatedAt, now), ct);
                if (cancelled > 0)
                    await db.Campaigns.Where(c => c.Id == campaign.Id).ExecuteUpdateAsync(s => s
                        .SetProperty(c => c.Pending, c => c.Pending - cancelled)
                        .SetProperty(c => c.Cancelled, c => c.Cancelled + cancelled), ct);
                logger.LogInformation("Campaign {Campaign} cancelled: {Recipients} recipients not sent, {Messages} queued messages withdrawn",
                    campaign.Code, cancelled, unsent.Count);
            }
            await tx.CommitAsync(ct);
        }
        await metrics.RecordFailedAsync(campaign.InstanceId, kind, CancelledErrorCode, withdrawn);
        await metrics.RecordCampaignSendsAsync(campaign.InstanceId, "cancelled", cancelled);
        // A runner waiting for these sends stops waiting.
        foreach (var id in unsent)
            outcomes.Report(id, MessageStatus.Failed);
        notices.CampaignChanged(customerId, campaign.Code);
        if (unsent.Count > 0)
            notices.MessagesChanged(campaign.InstanceId);
        return await StatusAsync(customerId, campaign.Code, ct);
    }

    /// <summary>
    /// Hands the campaign to the job system. The campaign is already committed: if the job store fails now,
    /// <see cref="CampaignRecovery"/> runs it on its next sweep, so the caller still gets its answer.
    /// </summary>
    private void Schedule(long campaignId, DateTimeOffset? at)
    {
        try
        {
            if (at is { } when)
                scheduler.RunAt(campaignId, when);
            else
                scheduler.RunNow(campaignId);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not enqueue the runner of campaign {CampaignId}; the recovery sweep will start it", campaignId);
        }
    }

    private static async Task<Campaign> FindAsync(WapBridgeDbContext db, int customerId, string? campaignCode, CancellationToken ct)
    {
        var code = CampaignCode(campaignCode);
        return await db.Campaigns.AsNoTracking().SingleOrDefaultAsync(c => c.Code == code && c.CustomerId == customerId && c.State != CampaignState.Creating, ct)
            ?? throw WapBridgeException.NotFound("Campaign", code, "campaign");
    }

    private static string CampaignCode(string? campaignCode) =>
        string.IsNullOrWhiteSpace(campaignCode) ? throw WapBridgeException.Missing("campaign") : campaignCode.Trim().ToUpperInvariant();

    internal static CampaignStatus ToStatus(Campaign c, string instanceCode)
    {
        var done = c.Total - c.Pending;
        var progress = c.Total == 0 ? (c.State == CampaignState.Completed ? 100 : 0) : Math.Round(100.0 * done / c.Total, 1);
        long? eta = c.State is CampaignState.Running or CampaignState.Scheduled && c.Pending > 0
            ? (long)Math.Ceiling(c.Pending * (c.MinDelaySeconds + c.MaxDelaySeconds) / 2)
            : null;
        return new CampaignStatus(c.Code, c.Name, instanceCode, c.State, c.Total, c.Pending, c.Sent, c.Delivered, c.Read, c.Failed, c.Invalid,
            c.Duplicates, c.Skipped, c.Cancelled, progress, c.CreatedAt, c.ScheduledAt, c.StartedAt, c.CompletedAt, c.PausedReason, c.NextSendAt, eta, c.CheckNumbersFirst,
            c.TemplateName, c.TemplateLanguage);
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];
}
