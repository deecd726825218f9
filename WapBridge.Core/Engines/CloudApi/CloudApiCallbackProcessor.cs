using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Turns an instance's stored callbacks (<see cref="CloudApiCallbackInbox"/>) into its engine's events, on the node
/// where its session lives and through that session's event sink: inbound messages (media downloaded from Graph) are
/// stored and announced like any engine's, statuses move our messages like receipts. A callback is marked processed
/// once its events are handled; one that fails is tried again with backoff, and given up (with its error kept) after a day.
/// </summary>
/// <remarks>
/// Meta sends a message's statuses as soon as Graph accepted it, sometimes before the outbox stored the <c>wamid</c>
/// Graph answered: a callback with a status for a <c>wamid</c> not known yet waits and is tried again, for up to
/// <see cref="StatusPatience"/>, instead of dropping the status.
/// </remarks>
public sealed class CloudApiCallbackProcessor(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    CloudApiCallbackInbox inbox,
    GraphClient graph,
    IOptions<MessagingOptions> messaging,
    TimeProvider time,
    ILogger<CloudApiCallbackProcessor> logger)
{
    /// <summary>When a callback is tried again after its n-th failed attempt, counted from its arrival; given up after the last.</summary>
    private static readonly TimeSpan[] RetryAfterArrival =
    [
        TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40),
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(7), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(40), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4),
        TimeSpan.FromHours(8), TimeSpan.FromHours(16), TimeSpan.FromHours(24),
    ];

    /// <summary>Attempts before a callback is given up.</summary>
    public static readonly int MaxAttempts = RetryAfterArrival.Length + 1;

    /// <summary>How long a status for a message not known yet waits for the outbox to record the message's <c>wamid</c>.</summary>
    public static readonly TimeSpan StatusPatience = TimeSpan.FromMinutes(10);

    private const int PageSize = 100;
    private const int MaxLastError = 500; // CloudApiCallback.LastError's column

    private readonly ConcurrentDictionary<int, Drain> _drains = new();

    /// <summary>When <paramref name="callback"/> is (next) due.</summary>
    public static DateTimeOffset DueAt(CloudApiCallback callback) =>
        callback.Attempts == 0 ? callback.ReceivedAt : callback.ReceivedAt + RetryAfterArrival[Math.Min(callback.Attempts, RetryAfterArrival.Length) - 1];

    /// <summary>
    /// Processes the instance's due callbacks in the background, one run at a time per instance: a nudge during a run
    /// makes it look again when done. <paramref name="stop"/> ends the run (the session closed).
    /// </summary>
    public void Nudge(int instanceId, string instanceCode, IEngineEventSink sink, CancellationToken stop)
    {
        var drain = _drains.GetOrAdd(instanceId, _ => new Drain());
        lock (drain)
        {
            drain.Next = (instanceCode, sink, stop);
            drain.Pending = true;
            if (drain.Running)
                return;
            drain.Running = true;
        }
        _ = Task.Run(() => RunAsync(instanceId, drain), CancellationToken.None);
    }

    private async Task RunAsync(int instanceId, Drain drain)
    {
        while (true)
        {
            (string Code, IEngineEventSink Sink, CancellationToken Stop) run;
            lock (drain)
            {
                if (!drain.Pending)
                {
                    // A closed session is not kept alive by its last run.
                    drain.Running = false;
                    drain.Next = default;
                    return;
                }
                drain.Pending = false;
                run = drain.Next;
            }
            try
            {
                await ProcessAsync(instanceId, run.Code, run.Sink, run.Stop);
            }
            catch (OperationCanceledException) when (run.Stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogError(e, "Processing the Cloud API callbacks of instance {Instance} failed; the sweep starts it again", run.Code);
            }
        }
    }

    /// <summary>Processes the instance's due callbacks, oldest first, until none is due.</summary>
    public async Task ProcessAsync(int instanceId, string instanceCode, IEngineEventSink sink, CancellationToken ct)
    {
        var credentials = await inbox.CredentialsAsync(instanceId, ct);
        long afterId = 0;
        while (!ct.IsCancellationRequested)
        {
            List<CloudApiCallback> page;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                page = await db.CloudApiCallbacks.AsNoTracking()
                    .Where(c => c.InstanceId == instanceId && c.ProcessedAt == null && c.Id > afterId)
                    .OrderBy(c => c.Id).Take(PageSize).ToListAsync(ct);
            if (page.Count == 0)
                return;
            var now = time.GetUtcNow();
            foreach (var callback in page.Where(c => DueAt(c) <= now))
            {
                if (ct.IsCancellationRequested)
                    return;
                await ProcessOneAsync(callback, instanceCode, credentials, sink, ct);
            }
            afterId = page[^1].Id;
        }
    }

    private async Task ProcessOneAsync(CloudApiCallback callback, string instanceCode, CloudApiCredentials? credentials, IEngineEventSink sink, CancellationToken ct)
    {
        string? wait;
        try
        {
            if (credentials is null)
                throw new InvalidOperationException("the instance's Cloud API credentials are missing or cannot be read; set them again");
            CloudApiWebhook webhook;
            try
            {
                webhook = CloudApiWebhookMapper.Parse(callback.Body, credentials.PhoneNumberId, callback.ReceivedAt);
            }
            catch (JsonException e)
            {
                // Signed by Meta yet not JSON: no later attempt reads it differently.
                logger.LogError("Cloud API callback {Callback} of instance {Instance} is not JSON ({Error}); dropped", callback.Id, instanceCode, e.Message);
                await FinishAsync(callback.Id, "not JSON: " + e.Message, CancellationToken.None);
                return;
            }
            wait = await DeliverAsync(callback, instanceCode, webhook, credentials, sink, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await FailAsync(callback, instanceCode, e.Message, e);
            return;
        }
        // The session closed meanwhile: events it was handed may have been dropped; the callback stays for its next session.
        if (ct.IsCancellationRequested)
            return;
        if (wait is not null)
            await FailAsync(callback, instanceCode, wait, null);
        else
            await FinishAsync(callback.Id, null, CancellationToken.None);
    }

    /// <summary>Hands the callback's messages and statuses to the session; a reason to try again later, or null when all went.</summary>
    private async Task<string?> DeliverAsync(CloudApiCallback callback, string instanceCode, CloudApiWebhook webhook, CloudApiCredentials credentials,
        IEngineEventSink sink, CancellationToken ct)
    {
        var instanceId = callback.InstanceId;
        var wamids = webhook.Statuses.Select(s => s.Wamid).Concat(webhook.Messages.SelectMany(m => m.ReferencedWamids())).Distinct().ToList();
        var inboundIds = webhook.Messages.Select(m => CloudApiWebhookMapper.InboundId(m.Message.Id)).Distinct().ToList();
        List<KnownMessage> ours;
        HashSet<string> stored;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            ours = wamids.Count == 0 ? [] : await db.Messages.AsNoTracking()
                .Where(m => m.InstanceId == instanceId && m.EngineMessageId != null && wamids.Contains(m.EngineMessageId))
                .Select(m => new KnownMessage(m.EngineMessageId!, m.WaMessageId, m.Direction, m.Status)).ToListAsync(ct);
            stored = inboundIds.Count == 0 ? [] : (await db.Messages.AsNoTracking()
                .Where(m => m.InstanceId == instanceId && m.Direction == Message.Inbound && inboundIds.Contains(m.WaMessageId))
                .Select(m => m.WaMessageId).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        }
        var ourIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var known in ours)
            ourIds.TryAdd(known.Wamid, known.WaMessageId);

        foreach (var inbound in webhook.Messages)
        {
            // Meta delivers a message again when it missed our answer: stored (and announced) once.
            if (!stored.Add(CloudApiWebhookMapper.InboundId(inbound.Message.Id)))
                continue;
            var (media, mediaError) = inbound.Media is { } reference ? await DownloadAsync(credentials, reference, instanceCode, ct) : (null, null);
            var message = CloudApiWebhookMapper.Complete(inbound, ourIds, media, mediaError);
            await sink.OnEventAsync(new MessageReceivedEvent(instanceCode, message.Timestamp, message), ct);
            if (MessageUpdateEvent.For(instanceCode, message.Timestamp, message) is { } update)
                await sink.OnEventAsync(update, ct);
        }

        var sent = ours.Where(m => m.Direction == Message.Outbound).GroupBy(m => m.Wamid).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var unknown = 0;
        foreach (var status in webhook.Statuses)
        {
            if (!sent.TryGetValue(status.Wamid, out var message))
            {
                unknown++;
                continue;
            }
            if (AlreadyPast(message.Status, status.Ack))
                continue;
            await sink.OnEventAsync(new MessageStatusEvent(instanceCode, status.At, message.WaMessageId, status.Ack, status.Error) { ErrorCode = status.ErrorCode }, ct);
        }
        if (unknown == 0)
            return null;
        if (time.GetUtcNow() - callback.ReceivedAt < StatusPatience)
            return $"{unknown} status(es) name a message whose Graph id is not recorded yet; waiting for the send to be recorded";
        logger.LogInformation("Instance {Instance}: {Count} Cloud API statuses of callback {Callback} name messages WapBridge did not send; ignored",
            instanceCode, unknown, callback.Id);
        return null;
    }

    /// <summary>
    /// Whether the message already has the status (a status Meta sent again) or a later one. <c>sent</c> always goes on:
    /// the outbox marks a message sent itself when Graph accepts it, so only Meta's status tells the <c>message.ack</c> webhook.
    /// </summary>
    private static bool AlreadyPast(MessageStatus current, MessageAck ack) => ack switch
    {
        MessageAck.Server => current > MessageStatus.Sent,
        MessageAck.Device => current >= MessageStatus.Delivered,
        MessageAck.Read => current is MessageStatus.Read or MessageStatus.Played or MessageStatus.Failed,
        MessageAck.Error => current == MessageStatus.Failed,
        _ => true,
    };

    /// <summary>The message's media from Graph, or why it could not be had (the message still goes, with <c>media.error</c>).</summary>
    private async Task<(EngineMedia? Media, string? Error)> DownloadAsync(CloudApiCredentials credentials, CloudApiMediaRef reference, string instanceCode,
        CancellationToken ct)
    {
        var limits = messaging.Value.MediaLimits;
        var maxBytes = reference.Kind switch
        {
            "video" => limits.VideoBytes,
            "audio" => limits.AudioBytes,
            "document" => limits.DocumentBytes,
            _ => limits.ImageBytes,
        };
        try
        {
            var file = await graph.DownloadMediaAsync(credentials, reference.MediaId, maxBytes, ct);
            await using var content = file.OpenRead();
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, ct);
            return (new EngineMedia(copy.ToArray(), reference.MimeType, reference.FileName), null);
        }
        catch (Exception e) when (e is EngineException or HttpRequestException or IOException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogWarning("Media {MediaId} of a Cloud API message to instance {Instance} could not be downloaded: {Error}",
                reference.MediaId, instanceCode, e.Message);
            return (null, e.Message);
        }
    }

    private async Task FailAsync(CloudApiCallback callback, string instanceCode, string error, Exception? exception)
    {
        var attempts = callback.Attempts + 1;
        var givingUp = attempts >= MaxAttempts;
        var clipped = error.Length > MaxLastError ? error[..MaxLastError] : error;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.CloudApiCallbacks.Where(c => c.Id == callback.Id).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Attempts, attempts)
            .SetProperty(c => c.LastError, clipped)
            .SetProperty(c => c.ProcessedAt, givingUp ? now : null));
        if (givingUp)
            logger.LogError(exception, "Gave up Cloud API callback {Callback} of instance {Instance} after {Attempts} attempts: {Error}",
                callback.Id, instanceCode, attempts, error);
        else if (exception is not null)
            logger.LogWarning(exception, "Cloud API callback {Callback} of instance {Instance} failed (attempt {Attempt}); trying again at {DueAt}",
                callback.Id, instanceCode, attempts, DueAt(new CloudApiCallback { Body = "", ReceivedAt = callback.ReceivedAt, Attempts = attempts }));
        else
            logger.LogInformation("Cloud API callback {Callback} of instance {Instance} waits (attempt {Attempt}): {Reason}",
                callback.Id, instanceCode, attempts, error);
    }

    private async Task FinishAsync(long callbackId, string? error, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var clipped = error is { Length: > MaxLastError } ? error[..MaxLastError] : error;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.CloudApiCallbacks.Where(c => c.Id == callbackId).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.ProcessedAt, now)
            .SetProperty(c => c.LastError, clipped), ct);
    }

    /// <summary>Deletes callbacks processed more than <paramref name="age"/> ago; answers how many.</summary>
    public async Task<int> PurgeAsync(TimeSpan age, CancellationToken ct)
    {
        var before = time.GetUtcNow() - age;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CloudApiCallbacks.Where(c => c.ProcessedAt != null && c.ProcessedAt < before).ExecuteDeleteAsync(ct);
    }

    private sealed record KnownMessage(string Wamid, string WaMessageId, string Direction, MessageStatus Status);

    private sealed class Drain
    {
        public bool Pending;
        public bool Running;
        public (string Code, IEngineEventSink Sink, CancellationToken Stop) Next;
    }
}
