using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Messaging;

public sealed record SendRequest(
    int CustomerId,
    string? InstanceCode,
    string? FromNumber,
    string? ToNumber,
    string? Text,
    MediaUpload? MediaData,
    string? MimeType,
    string? Filename,
    string? Caption,
    string Source,
    TimeSpan Wait,
    long? CampaignId = null,
    string? QuotedId = null,
    IReadOnlyList<string?>? Mentions = null,
    string? MediaUrl = null);

/// <param name="HoldReason">Why a queued send waits (<c>new_contact_budget</c>, <c>account_restricted</c>), until <paramref name="NextSendAt"/>.</param>
/// <param name="ErrorCode">Why it failed (<c>template_required</c>, …) when the wait saw it fail.</param>
public sealed record SendOutcome(long MessageId, string Id, MessageStatus Status, string InstanceId, string To, string? Error,
    string? HoldReason = null, DateTimeOffset? NextSendAt = null, string? ErrorCode = null);

/// <summary>Accepts a send: validates, persists the message with its WhatsApp id, hands it to the instance's outbox.</summary>
public sealed class MessageService(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    InstanceService instances,
    LocalInstances local,
    MessageIntake intake,
    MessageDispatcher dispatcher,
    MessageOutcomes outcomes,
    IOptions<MessagingOptions> options,
    IOptions<AccountOptions> accounts,
    EngineRegistry engines,
    MediaFetcher fetcher,
    NewContactBudget budget,
    TimeProvider time,
    ILogger<MessageService> logger)
{
    public const int MaxTextLength = 65536;
    public const int MaxMentions = 100;

    public async Task<SendOutcome> SendAsync(SendRequest request, CancellationToken ct = default)
    {
        var instance = await ResolveInstanceAsync(request, ct);
        EnsureSendable(instance);

        var to = WhatsAppNumbers.NormalizeChat(request.ToNumber, "to_number", instance.DefaultCountry);
        var quoted = await FindQuotedAsync(instance, to, request.QuotedId, ct);
        var mentions = NormalizeMentions(instance, request.Mentions);
        if (request.Text is { Length: > MaxTextLength })
            throw WapBridgeException.Invalid("message", "too_long", $"message is longer than {MaxTextLength} characters");
        var mediaUrl = string.IsNullOrWhiteSpace(request.MediaUrl) ? null : request.MediaUrl;
        if (mediaUrl is not null && request.MediaData is not null)
            throw WapBridgeException.Invalid(MediaFetcher.Field, "conflicting_media",
                "send the file one way: media_url, or media_data (a multipart file part), not both");
        if (mediaUrl is null && request.MediaData is null && string.IsNullOrWhiteSpace(request.Text))
            throw string.IsNullOrEmpty(request.Text) ? WapBridgeException.Missing("message")
                : WapBridgeException.Invalid("message", "empty_message", "message is empty; send some text, media_data or media_url");
        // Everything else is checked before the fetch, so a bad argument costs no download.
        await using var fetched = mediaUrl is null ? null : await fetcher.FetchAsync(request.CustomerId, mediaUrl, request.MimeType, ct);
        ValidatedMedia? file = null;
        if ((fetched?.Upload ?? request.MediaData) is { } upload)
        {
            file = MediaValidator.Validate(upload, fetched?.MimeType ?? request.MimeType, request.Filename ?? fetched?.Filename, options.Value.MediaLimits);
            await EnsureMediaQuotaAsync(request.CustomerId, file.Size, ct);
        }
        var caption = file is null ? null : (string.IsNullOrWhiteSpace(request.Caption) ? request.Text : request.Caption);

        var stored = file is null ? null : new StoredMedia((await file.Upload.CommitAsync(ct)).Hash, file.MimeType, file.Filename, file.Size, file.Type);
        var message = OutboundMessages.New(instance, to, file is null ? request.Text : null, stored, caption, request.Source, request.CampaignId,
            time.GetUtcNow(), options.Value.QueuedTimeToLive);
        message.QuotedId = quoted;
        message.Mentions = mentions;
        return await SubmitAsync(instance, message, request.Wait, ct);
    }

    /// <summary>
    /// Sends can be accepted now (connected) or queued until the instance reconnects (connecting, disconnected);
    /// any other state is a 409 and nothing is kept.
    /// </summary>
    public static void EnsureSendable(Instance instance)
    {
        if (instance.State is not (InstanceState.Connected or InstanceState.Connecting or InstanceState.Disconnected))
            throw EngineErrors.NotConnected(instance.Code, instance.State.ToWire(), "before sending");
    }

    /// <summary>409 <c>EngineFeatureUnavailable</c> unless the instance's engine can do <paramref name="feature"/>, asked for by <paramref name="field"/>.</summary>
    public void EnsureFeature(Instance instance, string feature, string field)
    {
        if (!engines.Supports(instance.Engine, feature))
            throw EngineErrors.FeatureUnavailable(feature, field);
    }

    /// <summary>The WhatsApp id of the message <c>quoted_id</c> names: one of the instance's messages in the same chat.</summary>
    private async Task<string?> FindQuotedAsync(Instance instance, string chat, string? quotedId, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(quotedId))
            return null;
        EnsureFeature(instance, EngineFeatures.Replies, "quoted_id");
        var id = quotedId.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await db.Messages.AsNoTracking()
            .Where(m => m.CustomerId == instance.CustomerId && m.InstanceId == instance.Id && m.Chat == chat && (m.SerializedId == id || m.WaMessageId == id))
            .Select(m => m.WaMessageId).FirstOrDefaultAsync(ct);
        return found ?? throw new WapBridgeException(ErrorKind.NotFound, "not_found",
            $"Message {id} not found in the chat with {chat} on {instance.Code}; quoted_id must be a message of that chat", "quoted_id");
    }

    /// <summary>The mentioned numbers, digits, comma-separated as stored; null when there are none.</summary>
    private string? NormalizeMentions(Instance instance, IReadOnlyList<string?>? mentions)
    {
        if (mentions is null || mentions.Count == 0)
            return null;
        EnsureFeature(instance, EngineFeatures.Mentions, "mentions");
        if (mentions.Count > MaxMentions)
            throw WapBridgeException.Invalid("mentions", "too_many", $"mentions lists {mentions.Count} numbers; mention at most {MaxMentions}");
        return string.Join(',', mentions.Select((m, i) => WhatsAppNumbers.Normalize(m, $"mentions[{i}]", instance.DefaultCountry)).Distinct());
    }

    /// <summary>
    /// Persists an outbound row (committed before the answer), wakes the instance's outbox and waits up to
    /// <paramref name="wait"/> for the send; the row's status when the wait ends.
    /// </summary>
    public async Task<SendOutcome> SubmitAsync(Instance instance, Message message, TimeSpan wait, CancellationToken ct = default)
    {
        var queueOnly = instance.State != InstanceState.Connected;
        var to = message.ToNumber!;
        // Stored with its hold, so the outbox does not try it before then and the caller hears why at once.
        if (await HoldAsync(instance, message, ct) is { } hold)
            (message.HoldReason, message.NextSendAt) = (hold.Reason, hold.Until);
        var waiting = !queueOnly && wait > TimeSpan.Zero && message.HoldReason is null;
        var outcome = waiting ? outcomes.WatchAsync(message.WaMessageId) : null;
        try
        {
            await intake.SaveAsync(message);
        }
        catch
        {
            outcomes.Forget(message.WaMessageId);
            throw;
        }
        logger.LogDebug("Message {MessageId} queued on {Instance} to {To}{Queued}", message.SerializedId, instance.Code, to, queueOnly ? " until it reconnects" : "");

        var status = MessageStatus.Queued;
        dispatcher.Wake(instance);
        if (outcome is not null)
        {
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                // The outbox reports in memory on the node the instance lives on, which may not be this one.
                if (!local.Hosts(instance.Id))
                    outcome = Task.WhenAny(outcome, MessageOutcomes.FromRowsAsync(dbFactory, instance.Id, [message.WaMessageId], time, stopReading.Token)).Unwrap();
                status = await outcome.WaitAsync(wait, time, ct);
            }
            catch (TimeoutException)
            {
            }
            finally
            {
                await stopReading.CancelAsync();
                outcomes.Forget(message.WaMessageId);
            }
        }

        string? error = null, errorCode = null;
        var (holdReason, nextSendAt) = (message.HoldReason, message.NextSendAt);
        if (status == MessageStatus.Failed || (status == MessageStatus.Queued && outcome is not null))
        {
            // Failed: why. Still queued after waiting: the outbox may have held it (the budget ran out meanwhile, a 463).
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            var row = await db.Messages.Where(m => m.Id == message.Id).Select(m => new { m.Status, m.Error, m.ErrorCode, m.HoldReason, m.NextSendAt }).SingleAsync(CancellationToken.None);
            (error, errorCode) = status == MessageStatus.Failed ? (row.Error, row.ErrorCode) : (null, null);
            if (status == MessageStatus.Queued && row.Status == MessageStatus.Queued)
                (holdReason, nextSendAt) = (row.HoldReason, row.NextSendAt);
        }
        return new SendOutcome(message.Id, message.SerializedId, status, instance.Code, to, error, holdReason, holdReason is null ? null : nextSendAt, errorCode);
    }

    /// <summary>
    /// Whether a message to a contact the instance never talked with must wait (contract §12): while WhatsApp restricts
    /// the number, until the restriction ends; when today's new-contact budget is spent (and not overridden by the
    /// owner), until the instance's next local midnight. The outbox decides again when it sends.
    /// </summary>
    private async Task<(string Reason, DateTimeOffset Until)?> HoldAsync(Instance instance, Message message, CancellationToken ct)
    {
        if (!OutgoingMessages.IsFirstMessageCandidate(message) || !NewContactBudget.AppliesTo(instance.Engine, engines)
            || await budget.IsKnownAsync(instance.Id, message.ToNumber!, ct))
            return null;
        if (instance.RestrictedUntil is { } restrictedUntil && restrictedUntil > time.GetUtcNow())
            return (SendFailurePolicy.AccountRestricted, restrictedUntil.ToUniversalTime());
        var today = await budget.StatusAsync(instance, ct);
        return today.LeftToday == 0 && today.OverriddenUntil is null ? (SendFailurePolicy.NewContactBudget, today.ResetsAt) : null;
    }

    /// <summary>
    /// Records a message that could not be accepted (a bad number from ERPNext, say) as failed, so the
    /// owner sees it in the message log while the caller carries on.
    /// </summary>
    public async Task<string> RecordRejectedAsync(SendRequest request, WapBridgeException error, CancellationToken ct = default)
    {
        var instance = await ResolveInstanceAsync(request, ct);
        var message = OutboundMessages.New(instance, Truncate(request.ToNumber?.Trim() ?? "", 64), request.Text, null, null, request.Source, null,
            time.GetUtcNow(), TimeSpan.Zero);
        message.SerializedId = $"true_{message.ToNumber}_{message.WaMessageId}";
        message.Status = MessageStatus.Failed;
        message.Ack = (int)MessageAck.Error;
        message.ErrorCode = error.Code;
        message.Error = Truncate(error.Message, 500);
        message.ExpiresAt = null;
        await intake.SaveAsync(message);
        return message.SerializedId;
    }

    private async Task EnsureMediaQuotaAsync(int customerId, long bytes, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        (await CustomerQuotas.ReadAsync(db, customerId, accounts.Value.Quotas, ct)).EnsureMediaAllowed(bytes);
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    private Task<Instance> ResolveInstanceAsync(SendRequest request, CancellationToken ct) =>
        ResolveInstanceAsync(request.CustomerId, request.InstanceCode, request.FromNumber, ct);

    /// <summary>By <c>instance_id</c>, else by <c>from_number</c>, else the customer's default, else their only (connected) instance.</summary>
    public async Task<Instance> ResolveInstanceAsync(int customerId, string? instanceCode, string? fromNumber, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(instanceCode))
            return await FindInstanceAsync(customerId, instanceCode, ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!string.IsNullOrWhiteSpace(fromNumber))
        {
            var from = WhatsAppNumbers.Normalize(fromNumber, "from_number");
            return await db.Instances.AsNoTracking()
                    .Where(i => i.CustomerId == customerId && i.PhoneNumber == from)
                    .OrderByDescending(i => i.State == InstanceState.Connected).ThenBy(i => i.Id)
                    .FirstOrDefaultAsync(ct)
                ?? throw new WapBridgeException(ErrorKind.NotFound, "not_found",
                    $"None of your instances is connected as {from}; check from_number or pass instance_id", "from_number");
        }

        var defaultId = await db.Customers.Where(c => c.Id == customerId).Select(c => c.DefaultInstanceId).SingleOrDefaultAsync(ct);
        if (defaultId is not null && await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == defaultId && i.CustomerId == customerId, ct) is { } chosen)
            return chosen;
        var owned = await db.Instances.AsNoTracking().Where(i => i.CustomerId == customerId).ToListAsync(ct);
        var connected = owned.Where(i => i.State == InstanceState.Connected).ToList();
        return owned.Count == 1 ? owned[0]
            : connected.Count == 1 ? connected[0]
            : throw WapBridgeException.Invalid("instance_id", "missing_argument",
                owned.Count == 0 ? "You have no instance yet: create one in /instances"
                    : "instance_id (or from_number) is required when you have several instances and no default instance; set one with set_default_instance");
    }

    /// <summary>One of the customer's instances by code, from memory when it lives here (404 naming instance_id otherwise).</summary>
    public async Task<Instance> FindInstanceAsync(int customerId, string? instanceCode, CancellationToken ct)
    {
        // The hot path: an instance hosted here is known in memory, state included.
        var live = string.IsNullOrWhiteSpace(instanceCode) ? null : local.Snapshot(instanceCode.Trim().ToUpperInvariant());
        return live is not null && live.CustomerId == customerId
            ? live
            : await instances.FindAsync(customerId, instanceCode, ct);
    }

    /// <summary>The instance a stored message belongs to, as <see cref="FindInstanceAsync"/> knows it.</summary>
    public async Task<Instance> InstanceOfAsync(Message message, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var code = await db.Instances.Where(i => i.Id == message.InstanceId).Select(i => i.Code).SingleAsync(ct);
        return await FindInstanceAsync(message.CustomerId, code, ct);
    }
}
