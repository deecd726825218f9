using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
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
    long? CampaignId = null);

public sealed record SendOutcome(long MessageId, string Id, MessageStatus Status, string InstanceId, string To, string? Error);

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
    TimeProvider time,
    ILogger<MessageService> logger)
{
    public const int MaxTextLength = 65536;

    public async Task<SendOutcome> SendAsync(SendRequest request, CancellationToken ct = default)
    {
        var instance = await ResolveInstanceAsync(request, ct);
        var queueOnly = instance.State switch
        {
            InstanceState.Connected => false,
            InstanceState.Connecting or InstanceState.Disconnected => true,
            _ => throw new WapBridgeException(ErrorKind.InstanceNotConnected, "instance_not_connected",
                $"Instance {instance.Code} is {instance.State.ToWire()}: connect it (scan its QR code in /instances) before sending.", "instance_id"),
        };

        var to = WhatsAppNumbers.Normalize(request.ToNumber, "to_number", instance.DefaultCountry);
        ValidatedMedia? file = null;
        if (request.MediaData is { } upload)
        {
            file = MediaValidator.Validate(upload, request.MimeType, request.Filename, options.Value.MediaLimits);
            await EnsureMediaQuotaAsync(request.CustomerId, file.Size, ct);
        }
        else if (string.IsNullOrWhiteSpace(request.Text))
            throw string.IsNullOrEmpty(request.Text) ? WapBridgeException.Missing("message")
                : WapBridgeException.Invalid("message", "empty_message", "message is empty; send some text or media_data");
        if (request.Text is { Length: > MaxTextLength })
            throw WapBridgeException.Invalid("message", "too_long", $"message is longer than {MaxTextLength} characters");
        var caption = file is null ? null : (string.IsNullOrWhiteSpace(request.Caption) ? request.Text : request.Caption);

        var stored = file is null ? null : new StoredMedia((await file.Upload.CommitAsync(ct)).Hash, file.MimeType, file.Filename, file.Size, file.Type);
        var message = OutboundMessages.New(instance, to, file is null ? request.Text : null, stored, caption, request.Source, request.CampaignId,
            time.GetUtcNow(), options.Value.QueuedTimeToLive);

        var waiting = !queueOnly && request.Wait > TimeSpan.Zero;
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
                status = await outcome.WaitAsync(request.Wait, time, ct);
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

        string? error = null;
        if (status == MessageStatus.Failed)
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            error = await db.Messages.Where(m => m.Id == message.Id).Select(m => m.Error).SingleAsync(CancellationToken.None);
        }
        return new SendOutcome(message.Id, message.SerializedId, status, instance.Code, to, error);
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

    /// <summary>By <c>instance_id</c>, else by <c>from_number</c>, else the customer's default, else their only (connected) instance.</summary>
    private async Task<Instance> ResolveInstanceAsync(SendRequest request, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(request.InstanceCode))
        {
            // The hot path: an instance hosted here is known in memory, state included.
            var live = local.Snapshot(request.InstanceCode.Trim().ToUpperInvariant());
            return live is not null && live.CustomerId == request.CustomerId
                ? live
                : await instances.FindAsync(request.CustomerId, request.InstanceCode, ct);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!string.IsNullOrWhiteSpace(request.FromNumber))
        {
            var from = WhatsAppNumbers.Normalize(request.FromNumber, "from_number");
            return await db.Instances.AsNoTracking()
                    .Where(i => i.CustomerId == request.CustomerId && i.PhoneNumber == from)
                    .OrderByDescending(i => i.State == InstanceState.Connected).ThenBy(i => i.Id)
                    .FirstOrDefaultAsync(ct)
                ?? throw new WapBridgeException(ErrorKind.NotFound, "not_found",
                    $"None of your instances is connected as {from}; check from_number or pass instance_id", "from_number");
        }

        var defaultId = await db.Customers.Where(c => c.Id == request.CustomerId).Select(c => c.DefaultInstanceId).SingleOrDefaultAsync(ct);
        if (defaultId is not null && await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == defaultId && i.CustomerId == request.CustomerId, ct) is { } chosen)
            return chosen;
        var owned = await db.Instances.AsNoTracking().Where(i => i.CustomerId == request.CustomerId).ToListAsync(ct);
        var connected = owned.Where(i => i.State == InstanceState.Connected).ToList();
        return owned.Count == 1 ? owned[0]
            : connected.Count == 1 ? connected[0]
            : throw WapBridgeException.Invalid("instance_id", "missing_argument",
                owned.Count == 0 ? "You have no instance yet: create one in /instances"
                    : "instance_id (or from_number) is required when you have several instances and no default instance; set one with set_default_instance");
    }
}
