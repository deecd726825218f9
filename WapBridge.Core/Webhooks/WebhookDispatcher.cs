using System.Net;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Webhooks;

public sealed record AttemptResult(bool Delivered, int? StatusCode, string? Response, string? Error);

/// <summary>
/// Drains the webhook outbox: POSTs each due delivery with the secret and Standard Webhooks headers,
/// retries on the backoff schedule (or the receiver's Retry-After), disables an endpoint that answers
/// 410, and marks a delivery dead once the schedule is spent. State lives in the rows, so a restart resumes.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    private const int BatchSize = 200;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private readonly IDbContextFactory<WapBridgeDbContext> _dbFactory;
    private readonly IDataProtector _secrets;
    private readonly WebhookSignal _signal;
    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _concurrency;

    private readonly WebhookOutbox? _outbox;

    public WebhookDispatcher(IDbContextFactory<WapBridgeDbContext> dbFactory, IDataProtectionProvider dataProtection, WebhookSignal signal,
        IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcher> logger, WebhookOutbox? outbox = null)
    {
        _outbox = outbox;
        _dbFactory = dbFactory;
        _secrets = WebhookSettingsService.SecretProtector(dataProtection);
        _signal = signal;
        _options = options;
        _time = time;
        _logger = logger;
        _concurrency = new SemaphoreSlim(Math.Max(1, options.Value.MaxConcurrency));
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = WebhookTargets.ConnectCallback(() => _options.Value),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(1, options.Value.MaxConcurrency),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("WapBridge-Webhooks/1.0");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await RunDueAsync(stoppingToken) == 0)
                    await _signal.WaitAsync(IdlePoll, _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Webhook dispatch loop failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Attempts every delivery due now, at most <see cref="WebhookOptions.MaxConcurrency"/> at a time; answers how many.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        List<long> due;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            due = await db.WebhookDeliveries.Where(d => d.State == DeliveryStates.Pending && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(BatchSize).ToListAsync(ct);
        }
        var attempts = due.Select(async id =>
        {
            await _concurrency.WaitAsync(ct);
            try
            {
                await AttemptAsync(id, ct);
            }
            finally
            {
                _concurrency.Release();
            }
        });
        await Task.WhenAll(attempts);
        return due.Count;
    }

    /// <summary>One attempt of one delivery, whatever its schedule says (used for replays and "send test").</summary>
    public async Task<AttemptResult?> AttemptAsync(long deliveryId, CancellationToken ct)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var now = _time.GetUtcNow();
        // Claim: push the next attempt past this one's timeout, so another loop or node does not take it meanwhile.
        var lease = now + _options.Value.AttemptTimeout * 2;
        var claimed = await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.State == DeliveryStates.Pending && d.NextAttemptAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), ct);
        if (claimed == 0)
            return null;

        var delivery = await db.WebhookDeliveries.SingleAsync(d => d.Id == deliveryId, ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == delivery.EndpointId, ct);
        if (endpoint is null || !endpoint.Enabled)
        {
            delivery.State = DeliveryStates.Dead;
            delivery.LastError = endpoint is null ? "The webhook endpoint was removed." : $"The webhook endpoint is disabled: {endpoint.DisabledReason}";
            await db.SaveChangesAsync(CancellationToken.None);
            return new AttemptResult(false, null, null, delivery.LastError);
        }

        var secret = endpoint.SecretProtected is null ? null : _secrets.Unprotect(endpoint.SecretProtected);
        var result = await PostAsync(endpoint.Url, secret, delivery, ct);
        var (retryAfter, status) = (result.RetryAfter, result.Attempt.StatusCode);
        delivery.Attempts++;
        delivery.LastStatusCode = status;
        delivery.LastResponse = result.Attempt.Response;
        delivery.LastError = result.Attempt.Error;
        var after = _time.GetUtcNow();

        if (result.Attempt.Delivered)
        {
            delivery.State = DeliveryStates.Delivered;
            delivery.DeliveredAt = after;
        }
        else if (status == (int)HttpStatusCode.Gone)
        {
            delivery.State = DeliveryStates.Dead;
            endpoint.Enabled = false;
            endpoint.DisabledReason = $"The receiver answered 410 Gone at {after:u}; save the webhook settings again to re-enable it.";
            endpoint.UpdatedAt = after;
            _logger.LogWarning("Webhook endpoint {EndpointId} of customer {CustomerId} answered 410 and is disabled", endpoint.Id, endpoint.CustomerId);
            _outbox?.Invalidate(endpoint.CustomerId);
        }
        else if (NextDelay(delivery.Attempts, retryAfter) is { } delay)
        {
            delivery.NextAttemptAt = after + delay;
        }
        else
        {
            delivery.State = DeliveryStates.Dead;
            _logger.LogWarning("Webhook delivery {DeliveryId} ({Event}) is dead after {Attempts} attempts", delivery.Id, delivery.EventType, delivery.Attempts);
        }
        await db.SaveChangesAsync(CancellationToken.None);
        return result.Attempt;
    }

    /// <summary>The wait before the next attempt, or null when the schedule is spent.</summary>
    private TimeSpan? NextDelay(int attemptsMade, TimeSpan? retryAfter)
    {
        var schedule = _options.Value.EffectiveRetrySchedule;
        if (attemptsMade > schedule.Length)
            return null;
        if (retryAfter is { } asked)
            return asked < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : asked > TimeSpan.FromHours(24) ? TimeSpan.FromHours(24) : asked;
        // ±20 % jitter, so deliveries that failed together do not all retry together.
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return schedule[attemptsMade - 1] * jitter;
    }

    private async Task<(AttemptResult Attempt, TimeSpan? RetryAfter)> PostAsync(string url, string? secret, WebhookDelivery delivery, CancellationToken ct)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.EventId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (secret is not null)
        {
            request.Headers.Add("X-Wapbridge-Secret", secret);
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, delivery.EventId, timestamp, delivery.Payload));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Value.AttemptTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var text = await ReadExcerptAsync(response, timeout.Token);
            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - _time.GetUtcNow(),
                _ => (TimeSpan?)null,
            };
            var ok = (int)response.StatusCode is >= 200 and < 300;
            return (new AttemptResult(ok, (int)response.StatusCode, text, ok ? null : $"HTTP {(int)response.StatusCode}"), ok ? null : retryAfter);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (new AttemptResult(false, null, null, $"No answer within {_options.Value.AttemptTimeout.TotalSeconds:0} s"), null);
        }
        catch (HttpRequestException e)
        {
            return (new AttemptResult(false, null, null, e.InnerException?.Message is { } inner ? $"{e.Message} ({inner})" : e.Message), null);
        }
    }

    private static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new char[500];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var read = await reader.ReadBlockAsync(buffer, ct);
        return new string(buffer, 0, read);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
