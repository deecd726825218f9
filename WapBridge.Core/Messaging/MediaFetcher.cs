using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Core.Messaging;

/// <summary>A <c>media_url</c> fetched into an upload (the caller validates, commits or disposes it), with what the server said about it.</summary>
public sealed record FetchedMedia(MediaUpload Upload, string MimeType, string? Filename) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Upload.DisposeAsync();
}

/// <summary>
/// Fetches <c>media_url</c> (contract §9) into the media store under the rules tenant-chosen URLs follow: only public
/// addresses unless <see cref="OutboundTargetPolicy"/> allows others, checked on the address connected to (every
/// redirect too, at most <see cref="MaxRedirects"/>), one deadline for the whole fetch, and never more than the size
/// limit of the file's kind kept. A customer's fetches take turns among themselves and all fetches share a node-wide
/// cap, so a slow or hostile server only delays the caller who named it.
/// </summary>
public sealed class MediaFetcher : IDisposable
{
    public const string Field = "media_url";
    public const int MaxRedirects = 3;
    public const int MaxUrlLength = 2000;

    private const int ChunkBytes = 64 * 1024;
    private const string Refused = "could not fetch media_url: its server is not at a public address (loopback, private and reserved addresses are blocked)";

    private readonly IMediaStore _store;
    private readonly IOptions<MessagingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MediaFetcher> _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _all;
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _perCustomer = new();

    public MediaFetcher(IMediaStore store, IOptions<MessagingOptions> options, IOptionsMonitor<OutboundTargetPolicy> targets, OutboundConnector connector,
        TimeProvider time, ILogger<MediaFetcher> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        _all = new SemaphoreSlim(options.Value.MaxConcurrentMediaFetches);
        _http = new HttpClient(new SocketsHttpHandler
        {
            // Redirects are followed by hand, so each hop is counted and its scheme checked (its address is checked on connect).
            AllowAutoRedirect = false,
            // Through a proxy the callback would check the proxy's address, not the server's.
            UseProxy = false,
            // The limit applies to the bytes stored; a compressed body could expand far past what was counted.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = OutboundTargets.ConnectCallback(() => targets.CurrentValue, connector, host => new MediaTargetRefusedException(host)),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("WapBridge-Media/1.0");
    }

    /// <summary>
    /// Fetches <paramref name="url"/>; <paramref name="mimeType"/> (the caller's <c>mime_type</c>) overrides the server's
    /// Content-Type. Every failure is a 417 naming <c>media_url</c>.
    /// </summary>
    public async Task<FetchedMedia> FetchAsync(int customerId, string url, string? mimeType, CancellationToken ct)
    {
        var uri = ParseUrl(url);
        var timeout = _options.Value.MediaFetchTimeout;
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var turn = _perCustomer.GetOrAdd(customerId, _ => new SemaphoreSlim(Math.Max(1, _options.Value.MediaFetchesPerCustomer)));
        try
        {
            // Waiting for a turn counts against the deadline: the caller hears within it either way.
            await turn.WaitAsync(linked.Token);
            try
            {
                await _all.WaitAsync(linked.Token);
                try
                {
                    return await FollowAsync(uri, mimeType, linked.Token);
                }
                finally
                {
                    _all.Release();
                }
            }
            finally
            {
                turn.Release();
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            _logger.LogDebug("media_url fetch for customer {CustomerId} from {Host} timed out after {Timeout}", customerId, uri.Host, timeout);
            throw Invalid("media_url_timeout", $"could not fetch media_url: no complete answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !ct.IsCancellationRequested)
        {
            var refused = IsRefused(e);
            // One text for every way a connection fails, so media_url is no port scanner; operators get the detail.
            _logger.LogDebug("media_url fetch for customer {CustomerId} from {Host} failed: {Reason}", customerId, uri.Host,
                refused ? "target refused" : e.InnerException?.Message ?? e.Message);
            throw refused ? Invalid("target_refused", Refused)
                : Invalid("media_url_unreachable", "could not fetch media_url: the server could not be reached or broke off the answer");
        }
    }

    private async Task<FetchedMedia> FollowAsync(Uri uri, string? mimeType, CancellationToken ct)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                if (hop == MaxRedirects)
                    throw Invalid("too_many_redirects", $"could not fetch media_url: it redirects more than {MaxRedirects} times; link the file itself");
                uri = RedirectTarget(uri, location);
                continue;
            }
            if (status is < 200 or >= 300)
                throw Invalid("media_url_status", $"could not fetch media_url: the server answered HTTP {status}; media_url must answer 200 with the file");
            return await ReadAsync(uri, response, mimeType, ct);
        }
    }

    private async Task<FetchedMedia> ReadAsync(Uri uri, HttpResponseMessage response, string? mimeType, CancellationToken ct)
    {
        var served = response.Content.Headers.ContentType;
        var mime = string.IsNullOrWhiteSpace(mimeType) ? served?.ToString() : mimeType.Trim();
        if (string.IsNullOrWhiteSpace(mime))
            throw Invalid("missing_mime_type", "media_url answered without a Content-Type; pass mime_type (e.g. image/jpeg)");
        // A login or error page answered with 200 is not the file the caller meant to send.
        if (string.IsNullOrWhiteSpace(mimeType) && served?.MediaType is "text/html")
            throw Invalid("not_a_file", "media_url answered a web page (text/html), not a file; link the file itself or pass mime_type");

        var (limit, kind) = MediaValidator.LimitFor(mime, _options.Value.MediaLimits);
        if (response.Content.Headers.ContentLength is { } length && length > limit)
            throw TooLarge($"media_url is {length:N0} bytes; a {kind} may be at most {limit:N0} bytes");

        var upload = _store.BeginUpload(limit);
        upload.Field = Field;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            await using (var body = await response.Content.ReadAsStreamAsync(ct))
            {
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, ChunkBytes), ct)) > 0)
                {
                    await upload.WriteAsync(buffer.AsMemory(0, read), ct);
                    // Stop reading at once: a server streaming without end must not keep the fetch (or the disk) busy.
                    if (upload.OverLimit)
                        throw TooLarge($"media_url is more than {limit:N0} bytes; a {kind} may be at most {limit:N0} bytes");
                }
            }
            await upload.CompleteAsync(ct);
            return new FetchedMedia(upload, mime, FileName(response.Content.Headers.ContentDisposition, uri));
        }
        catch
        {
            await upload.DisposeAsync();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The file name the server gives (Content-Disposition), else the URL path's last segment; null when neither is usable.</summary>
    private static string? FileName(ContentDispositionHeaderValue? disposition, Uri uri)
    {
        var named = disposition?.FileNameStar ?? disposition?.FileName?.Trim('"');
        var candidate = !string.IsNullOrWhiteSpace(named) ? named : Uri.UnescapeDataString(uri.Segments[^1]);
        candidate = candidate.Split('/', '\\')[^1].Trim();
        return candidate.Length is 0 or > 255 || candidate is "." or ".." || candidate.Any(char.IsControl) ? null : candidate;
    }

    /// <summary>A <c>media_url</c> the gateway may try: absolute http or https, no credentials, no spaces.</summary>
    public static Uri ParseUrl(string url)
    {
        url = url.Trim();
        if (url.Length > MaxUrlLength)
            throw Invalid("too_long", $"media_url must be at most {MaxUrlLength} characters");
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw Invalid("invalid_url", "media_url must not contain spaces or control characters; percent-encode them");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !IsHttp(uri))
            throw Invalid("invalid_url", "media_url must be an absolute http:// or https:// URL");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw Invalid("invalid_url", "media_url must not carry credentials (user:password@); use a link that needs none, or send media_data");
        return uri;
    }

    private static Uri RedirectTarget(Uri from, Uri location)
    {
        var target = location.IsAbsoluteUri ? location : new Uri(from, location);
        if (!IsHttp(target) || !string.IsNullOrEmpty(target.UserInfo))
            throw Invalid("invalid_redirect", "could not fetch media_url: it redirects to a URL that is not plain http or https");
        return target;
    }

    private static bool IsHttp(Uri uri) => uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host);

    private static bool IsRefused(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is TargetRefusedException)
                return true;
        return false;
    }

    private static WapBridgeException Invalid(string code, string message) => WapBridgeException.Invalid(Field, code, message);

    private static WapBridgeException TooLarge(string message) => WapBridgeException.Invalid(Field, "media_too_large", message);

    public void Dispose()
    {
        _http.Dispose();
        _all.Dispose();
        foreach (var turn in _perCustomer.Values)
            turn.Dispose();
    }
}

/// <summary>A <c>media_url</c> server whose addresses are all refused; thrown before any connection is attempted.</summary>
public sealed class MediaTargetRefusedException(string host)
    : TargetRefusedException($"media_url server {host} resolves only to addresses that are not allowed (WapBridge:Webhooks:AllowPrivateTargets / AllowLoopbackTargets allow private and loopback ones)");
