using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Core.Webhooks;

public sealed record AttemptResult(bool Delivered, int? StatusCode, string? Response, string? Error);

/// <summary>
/// One POST of one delivery: the Standard Webhooks headers and signature, the attempt timeout, the receiver's
/// Retry-After, and connections only to targets the tenant may reach (checked at connect time, after DNS).
/// </summary>
public sealed class WebhookSender : IDisposable
{
    internal const string PreparationFailed = "The request could not be built from the stored webhook URL or secret; save the webhook settings again.";
    private const string ConnectionFailed = "Connection failed: the receiver could not be reached.";

    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;

    public WebhookSender(IOptions<WebhookOptions> options, TimeProvider time, ILogger logger, OutboundConnector connector)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // Through a proxy the callback would check the proxy's address, not the target's.
            UseProxy = false,
            ConnectCallback = WebhookTargets.ConnectCallback(() => _options.Value, connector),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(1, options.Value.MaxConcurrency),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("WapBridge-Webhooks/1.0");
    }

    public async Task<(AttemptResult Attempt, TimeSpan? RetryAfter)> PostAsync(WebhookEndpoint endpoint, string? secret, WebhookDelivery delivery, CancellationToken ct)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = Prepare(endpoint.Url, secret, delivery, timestamp);
        if (request is null)
            return (new AttemptResult(false, null, null, PreparationFailed), null);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Value.AttemptTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            // A reply from inside the network must not be readable by whoever chose the URL: tenants see its status only.
            var text = ShowsReplies(request.RequestUri!) ? await ReadExcerptAsync(response, timeout.Token) : null;
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
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // One text for every way a connection can fail, so the delivery log is no port scanner; operators get the detail.
            var refused = Refused(e);
            _logger.LogDebug("Webhook delivery {DeliveryId} to endpoint {EndpointId} failed: {Reason}", delivery.Id, endpoint.Id,
                refused ? "target refused" : e.InnerException?.Message ?? e.Message);
            return (new AttemptResult(false, null, null, refused ? WebhookTargets.RefusedMessage : ConnectionFailed), null);
        }
    }

    /// <summary>The request, or null when the stored URL or secret cannot be put into one (settings saved before they were checked).</summary>
    private static HttpRequestMessage? Prepare(string url, string? secret, WebhookDelivery delivery, long timestamp)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || (secret is not null && !WebhookTargets.IsSendable(secret)))
            return null;
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
        try
        {
            request.Headers.Add("webhook-id", delivery.EventId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (secret is not null)
            {
                request.Headers.Add("X-Wapbridge-Secret", secret);
                request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, delivery.EventId, timestamp, delivery.Payload));
            }
            return request;
        }
        catch (FormatException)
        {
            request.Dispose();
            return null;
        }
    }

    private static bool Refused(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is WebhookTargetRefusedException)
                return true;
        return false;
    }

    /// <summary>
    /// Whether a reply's body may be shown: only when it surely came from a public address, i.e. when no other target is
    /// allowed at all, or the URL names a public address itself.
    /// </summary>
    private bool ShowsReplies(Uri uri)
    {
        var options = _options.Value;
        if (!options.AllowLoopbackTargets && !options.AllowPrivateTargets)
            return true;
        return WebhookTargets.LiteralAddress(uri) is { } address && WebhookTargets.Classify(address, HostAddresses.Current) == TargetKind.Public;
    }

    /// <summary>The start of a reply, as text any database stores.</summary>
    internal static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new char[500];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var read = await reader.ReadBlockAsync(buffer, ct);
        // PostgreSQL refuses NUL and half a character (cut off at the end of the excerpt), and one such row would fail
        // the group commit of every tenant's outcomes with it.
        for (var i = 0; i < read; i++)
            if (buffer[i] == '\0'
                || (char.IsHighSurrogate(buffer[i]) && (i + 1 == read || !char.IsLowSurrogate(buffer[i + 1])))
                || (char.IsLowSurrogate(buffer[i]) && (i == 0 || !char.IsHighSurrogate(buffer[i - 1]))))
                buffer[i] = '\uFFFD';
        return new string(buffer, 0, read);
    }

    public void Dispose() => _http.Dispose();
}
