using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using WapBridge.Core.Common.Networking;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>What Graph answers for a business phone number (<c>GET /&lt;phone_number_id&gt;</c>).</summary>
public sealed record GraphPhoneNumber(string Id, string DisplayPhoneNumber, string? VerifiedName, string? QualityRating);

/// <summary>
/// Graph refused a call: <see cref="MetaCode"/> is Meta's <c>error.code</c> (130429 for an HTTP 429 without one),
/// <see cref="EngineException.Code"/> our reason for it (<see cref="GraphErrorCodes.ReasonFor"/>).
/// </summary>
public sealed class GraphException(int metaCode, int httpStatus, string message, string? code = null)
    : EngineException(code ?? GraphErrorCodes.ReasonFor(metaCode), message)
{
    public int MetaCode { get; } = metaCode;
    public int HttpStatus { get; } = httpStatus;

    /// <summary>How long Graph asked to wait before trying again (<c>Retry-After</c> of a 429), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public bool IsThrottling => GraphErrorCodes.IsThrottling(MetaCode);

    /// <summary>The access token was refused: nothing works until the owner replaces it.</summary>
    public bool IsTokenRefused => MetaCode == 190 || HttpStatus == 401;
}

/// <summary>
/// Meta's Graph API for WhatsApp Business (contract §11): every request carries the number's access token as a bearer
/// token and takes at most <see cref="CloudApiOptions.RequestTimeout"/>. One attempt per call: whether a failed send
/// may be repeated is the caller's decision (<see cref="IsNeverSent"/>), since Graph has no idempotency key.
/// Network failures surface as <see cref="HttpRequestException"/> or <see cref="TaskCanceledException"/> (timeout).
/// </summary>
public sealed partial class GraphClient : IDisposable
{
    /// <summary>Meta's code for "too many requests", which an HTTP 429 without an error body stands for.</summary>
    public const int ThroughputCode = 130429;

    private readonly HttpClient _http;
    private readonly IOptions<CloudApiOptions> _options;
    private readonly TimeProvider _time;

    public GraphClient(IOptions<CloudApiOptions> options, OutboundConnector connector, TimeProvider time)
    {
        _options = options;
        _time = time;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // Graph is the operator's choice, not a tenant's: no address policy, but still the product's one connector.
            ConnectCallback = async (context, ct) =>
            {
                var host = context.DnsEndPoint.Host;
                var addresses = IPAddress.TryParse(host.TrimStart('[').TrimEnd(']'), out var literal) ? [literal] : await connector.ResolveAsync(host, ct);
                return await connector.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            },
            UseProxy = false,
            // The bearer token must not follow a redirect to another host.
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("WapBridge-CloudApi/1.0");
    }

    private Uri Base => _options.Value.GraphBaseUrl;

    /// <summary>
    /// Whether a failed request certainly never reached Graph (no connection could be made), so repeating it cannot
    /// deliver a message twice.
    /// </summary>
    public static bool IsNeverSent(Exception e) =>
        e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError };

    public async Task<GraphPhoneNumber> GetPhoneNumberAsync(string phoneNumberId, string accessToken, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, Url($"{Segment(phoneNumberId)}?fields=display_phone_number,verified_name,quality_rating"), accessToken, null, ct);
        return new GraphPhoneNumber(Str(json, "id") ?? phoneNumberId, Str(json, "display_phone_number") ?? "", Str(json, "verified_name"), Str(json, "quality_rating"));
    }

    /// <summary>
    /// A received media file: Graph's metadata (<c>GET /&lt;media-id&gt;</c>), then the file from the address it names,
    /// with the token. A file over <paramref name="maxBytes"/> is refused before or while reading (never read whole);
    /// the bytes must match Graph's SHA-256.
    /// </summary>
    public async Task<EngineMedia> DownloadMediaAsync(CloudApiCredentials credentials, string mediaId, long maxBytes, CancellationToken ct)
    {
        var meta = await SendAsync(HttpMethod.Get, Url(Segment(mediaId)), credentials.AccessToken, null, ct);
        if (Str(meta, "url") is not { } url || !Uri.TryCreate(url, UriKind.Absolute, out var fileUri) || fileUri.Scheme is not ("https" or "http"))
            throw new GraphException(0, 200, $"Graph named no download address for media {mediaId}", GraphErrorCodes.MediaFailed);
        var mime = Str(meta, "mime_type") ?? "application/octet-stream";
        if (Long(meta, "file_size") is { } announced && announced > maxBytes)
            throw TooLarge(mediaId, announced, maxBytes);

        using var deadline = Deadline(ct, out var token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, fileUri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credentials.AccessToken);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (!response.IsSuccessStatusCode)
                throw await ErrorOfAsync(response, token);
            if (response.Content.Headers.ContentLength is { } length && length > maxBytes)
                throw TooLarge(mediaId, length, maxBytes);
            await using var body = await response.Content.ReadAsStreamAsync(token);
            using var buffer = new MemoryStream();
            var chunk = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, token)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                    throw TooLarge(mediaId, buffer.Length + read, maxBytes);
                buffer.Write(chunk, 0, read);
            }
            var data = buffer.ToArray();
            if (Str(meta, "sha256") is { Length: > 0 } expected && !HashMatches(data, expected))
                throw new GraphException(0, 200, $"media {mediaId} did not match the SHA-256 Graph announced (damaged on the way)", GraphErrorCodes.MediaFailed);
            return new EngineMedia(data, mime, null);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw TimedOut();
        }
    }

    /// <summary>Every template of the business account (all pages), with its body text and placeholders.</summary>
    public async Task<IReadOnlyList<EngineTemplate>> ListTemplatesAsync(CloudApiCredentials credentials, CancellationToken ct)
    {
        var templates = new List<EngineTemplate>();
        var next = Url($"{Segment(credentials.BusinessAccountId)}/message_templates?fields=name,language,status,category,components&limit=100");
        // Bounded: a paging loop that never ends would hold the caller forever.
        for (var page = 0; next is not null && page < 100; page++)
        {
            var json = await SendAsync(HttpMethod.Get, next, credentials.AccessToken, null, ct);
            foreach (var t in json["data"] as JsonArray ?? [])
                if (t is JsonObject template && Str(template, "name") is { } name)
                    templates.Add(TemplateOf(template, name));
            next = Str(json["paging"], "next") is { } link && Uri.TryCreate(link, UriKind.Absolute, out var uri) && SameOrigin(uri, Base) ? uri : null;
        }
        return templates;
    }

    /// <summary>One <c>POST /&lt;phone_number_id&gt;/messages</c>; answers Graph's JSON (a send's <c>messages[0].id</c> is the wamid).</summary>
    public Task<JsonObject> PostMessageAsync(CloudApiCredentials credentials, JsonObject body, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, Url($"{Segment(credentials.PhoneNumberId)}/messages"), credentials.AccessToken,
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);

    /// <summary>Uploads a file to the number's media (<c>POST /&lt;phone_number_id&gt;/media</c>) and answers its media id.</summary>
    public async Task<string> UploadMediaAsync(CloudApiCredentials credentials, EngineMedia media, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("whatsapp"), "messaging_product");
        form.Add(new StringContent(media.MimeType), "type");
        var file = new StreamContent(media.OpenRead());
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(media.MimeType);
        form.Add(file, "file", media.FileName ?? "file");
        var json = await SendAsync(HttpMethod.Post, Url($"{Segment(credentials.PhoneNumberId)}/media"), credentials.AccessToken, form, ct);
        return Str(json, "id") ?? throw new GraphException(0, 200, "Graph answered the media upload without a media id", GraphErrorCodes.MediaFailed);
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, Uri url, string accessToken, HttpContent? content, CancellationToken ct)
    {
        using var deadline = Deadline(ct, out var token);
        try
        {
            using var request = new HttpRequestMessage(method, url) { Content = content };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
            if (!response.IsSuccessStatusCode)
                throw await ErrorOfAsync(response, token);
            var text = await response.Content.ReadAsStringAsync(token);
            try
            {
                return JsonNode.Parse(text) as JsonObject ?? [];
            }
            catch (JsonException)
            {
                throw new GraphException(0, (int)response.StatusCode, "Graph answered something that is not JSON");
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw TimedOut();
        }
    }

    private CancellationTokenSource Deadline(CancellationToken ct, out CancellationToken token)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.Value.RequestTimeout);
        token = deadline.Token;
        return deadline;
    }

    private TaskCanceledException TimedOut() =>
        new($"Graph did not answer within {_options.Value.RequestTimeout.TotalSeconds:0.#} s", new TimeoutException());

    private async Task<GraphException> ErrorOfAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(ct);
        }
        catch (HttpRequestException)
        {
            text = "";
        }
        JsonNode? error = null;
        try
        {
            error = JsonNode.Parse(text)?["error"];
        }
        catch (JsonException)
        {
            // Not Graph's error shape (a proxy's page): the status says what there is to say.
        }
        var code = error?["code"] is JsonValue c && c.TryGetValue<int>(out var n) ? n
            : status == 429 ? ThroughputCode
            : status == 401 ? 190
            : 0;
        var title = Str(error, "error_user_title") ?? Str(error, "message") ?? $"Graph answered HTTP {status}";
        var details = Str(error?["error_data"], "details") ?? Str(error, "error_user_msg");
        var message = details is null || details == title ? $"{title} (Meta error {code})" : $"{title}: {details} (Meta error {code})";
        return new GraphException(code, status, message) { RetryAfter = RetryAfterOf(response) };
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _time.GetUtcNow() is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static GraphException TooLarge(string mediaId, long size, long maxBytes) =>
        new(0, 200, $"media {mediaId} is larger than the {maxBytes} bytes allowed ({size} bytes or more)", "media_too_large");

    private static bool HashMatches(byte[] data, string expected)
    {
        var hash = SHA256.HashData(data);
        // Meta documents a SHA-256 without saying how it is written: hex, or base64 in some answers.
        return string.Equals(Convert.ToHexString(hash), expected, StringComparison.OrdinalIgnoreCase)
            || string.Equals(Convert.ToBase64String(hash), expected, StringComparison.Ordinal);
    }

    private static EngineTemplate TemplateOf(JsonObject template, string name)
    {
        var body = (template["components"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(c => string.Equals(Str(c, "type"), "BODY", StringComparison.OrdinalIgnoreCase));
        var text = Str(body, "text");
        var names = text is null ? [] : Placeholder().Matches(text).Select(m => m.Groups[1].Value).Distinct().ToList();
        // Positional placeholders are filled by number ({{1}} first) wherever the text puts them; named ones as they appear.
        var variables = names.All(n => n.All(char.IsAsciiDigit)) ? names.OrderBy(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToList() : names;
        return new EngineTemplate(name, Str(template, "language") ?? "", Str(template, "status") ?? "", Str(template, "category") ?? "", text, variables);
    }

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial Regex Placeholder();

    private Uri Url(string relative) => new($"{Base.AbsoluteUri.TrimEnd('/')}/{relative}");

    private static string Segment(string id) => Uri.EscapeDataString(id);

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string? Str(JsonNode? node, string name) =>
        node?[name] is JsonValue v ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        } : null;

    private static long? Long(JsonNode? node, string name) => long.TryParse(Str(node, name), out var n) ? n : null;

    public void Dispose() => _http.Dispose();
}
