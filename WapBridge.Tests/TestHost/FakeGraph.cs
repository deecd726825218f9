using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Engines.CloudApi;

namespace WapBridge.Tests.TestHost;

/// <summary>A file Graph fetched from the <c>link</c> of a media send, as Meta does before delivering it: what the link answered.</summary>
public sealed record FakeGraphFetch(string Link, int Status, string? ContentType, string? ContentDisposition, byte[] Data);

/// <summary>A business phone number the fake Graph knows, with the token that may use it and the app secret of its Meta app.</summary>
public sealed record FakeGraphNumber(string PhoneNumberId, string DisplayPhoneNumber, string VerifiedName, string AccessToken, string BusinessAccountId,
    string AppSecret = "fake-app-secret", string VerifyToken = "fake-verify-token-0001", string QualityRating = "GREEN")
{
    /// <summary>The instance credentials for this number (what <c>create_instance</c>'s <c>cloudapi</c> object carries).</summary>
    public CloudApiCredentials Credentials => new(PhoneNumberId, BusinessAccountId, AccessToken, AppSecret, VerifyToken);
}

/// <summary>One request the fake Graph got; <see cref="Json"/> is the body parsed when it was JSON.</summary>
public sealed record FakeGraphRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body, JsonObject? Json)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";
}

/// <summary>A file the fake Graph holds: uploaded by WapBridge, or added by a test to be downloaded as inbound media.</summary>
public sealed record FakeGraphMedia(string Id, byte[] Data, string MimeType, string? FileName, string Sha256)
{
    public long? AnnouncedSize { get; init; }
}

/// <summary>
/// Meta's Graph API on 127.0.0.1 (Kestrel, a free port), answering as Graph does for the WhatsApp Business calls
/// WapBridge makes: the number, sends (<c>messages</c>), media upload and download, templates with paging. Every request
/// is recorded in <see cref="Requests"/>. A wrong bearer token gets Graph's 401 with code 190. Use <see cref="BaseUrl"/>
/// as <c>WapBridge:Engines:CloudApi:GraphBaseUrl</c>.
/// </summary>
public sealed class FakeGraph : IAsyncDisposable
{
    public const string Version = "v23.0";

    public static readonly FakeGraphNumber DefaultNumber = new("106540352242922", "+255 700 000 111", "Duka Test", "EAAG-fake-token-one", "102290129340398");

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeGraphRequest> _requests = new();
    private readonly ConcurrentDictionary<string, FakeGraphNumber> _numbers = new();
    private readonly ConcurrentDictionary<string, FakeGraphMedia> _media = new();
    private readonly Queue<(int Status, int? MetaCode, TimeSpan? RetryAfter)> _failures = new();
    private readonly Queue<TimeSpan> _delays = new();
    private readonly Queue<(int Status, int MetaCode)> _lookupFailures = new();
    private readonly ConcurrentQueue<FakeGraphFetch> _fetches = new();
    private readonly Lock _gate = new();
    private long _ids;

    /// <summary>Links of media sends, fetched only on loopback (a link elsewhere is recorded with status 0, never fetched).</summary>
    private static readonly HttpClient LinkFetcher = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private FakeGraph(WebApplication app) => _app = app;

    /// <summary>Where Graph is, with its version: <c>http://127.0.0.1:&lt;port&gt;/v23.0</c>.</summary>
    public Uri BaseUrl => new($"{Root}/{Version}");

    private string Root => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public IReadOnlyList<FakeGraphRequest> Requests => _requests.ToList();

    /// <summary>Media fetched from the links of sends, in order.</summary>
    public IReadOnlyList<FakeGraphFetch> Fetches => _fetches.ToList();

    /// <summary>The sends (<c>POST …/messages</c> that are not read receipts), in order.</summary>
    public IReadOnlyList<FakeGraphRequest> Sends => Requests.Where(r => r is { Method: "POST" } && r.Path.EndsWith("/messages", StringComparison.Ordinal)
        && r.Json?["status"] is null).ToList();

    /// <summary>The business account's templates as Graph lists them (<see cref="Template"/> builds one).</summary>
    public List<JsonObject> Templates { get; } = [];

    /// <summary>How many templates one page holds (Graph's <c>limit</c> is honoured when smaller).</summary>
    public int TemplatePageSize { get; set; } = 25;

    public IReadOnlyCollection<FakeGraphNumber> Numbers => _numbers.Values.ToList();

    /// <summary>Closes the connection after every answer, so each request opens a new one (to play connect failures).</summary>
    public bool CloseConnections { get; set; }

    public FakeGraphMedia? Media(string id) => _media.GetValueOrDefault(id);

    public static async Task<FakeGraph> StartAsync(params FakeGraphNumber[] numbers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var graph = new FakeGraph(app);
        foreach (var number in numbers.Length == 0 ? [DefaultNumber] : numbers)
            graph.AddNumber(number);
        app.Run(graph.HandleAsync);
        await app.StartAsync();
        return graph;
    }

    public void AddNumber(FakeGraphNumber number) => _numbers[number.PhoneNumberId] = number;

    /// <summary>A file Graph holds (inbound media); answers its media id. <paramref name="announcedSha256"/> overrides the hash Graph tells.</summary>
    /// <param name="announcedSize">Overrides the <c>file_size</c> Graph tells (a lie, to show the download counts the bytes itself).</param>
    public string AddMedia(byte[] data, string mimeType, string? fileName = null, string? announcedSha256 = null, long? announcedSize = null)
    {
        var id = NextId().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _media[id] = new FakeGraphMedia(id, data, mimeType, fileName, announcedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(data)))
        {
            AnnouncedSize = announcedSize,
        };
        return id;
    }

    /// <summary>The next <paramref name="count"/> sends (<c>POST …/messages</c>) fail with this status and Meta code (null: no error body code).</summary>
    public void FailNext(int count, int httpStatus, int? metaCode, TimeSpan? retryAfter = null)
    {
        lock (_gate)
            for (var i = 0; i < count; i++)
                _failures.Enqueue((httpStatus, metaCode, retryAfter));
    }

    /// <summary>The next <paramref name="count"/> look-ups of a number (<c>GET /&lt;phone_number_id&gt;</c>, what connecting asks) fail so.</summary>
    public void FailNextLookup(int count, int httpStatus, int metaCode)
    {
        lock (_gate)
            for (var i = 0; i < count; i++)
                _lookupFailures.Enqueue((httpStatus, metaCode));
    }

    /// <summary>The next <paramref name="count"/> sends are answered only after <paramref name="delay"/> (to play a timeout).</summary>
    public void DelayNext(int count, TimeSpan delay)
    {
        lock (_gate)
            for (var i = 0; i < count; i++)
                _delays.Enqueue(delay);
    }

    /// <summary>A template as Graph lists it: one BODY component with <paramref name="body"/>.</summary>
    public static JsonObject Template(string name, string language, string body, string status = "APPROVED", string category = "UTILITY") => new()
    {
        ["name"] = name,
        ["language"] = language,
        ["status"] = status,
        ["category"] = category,
        ["id"] = $"{Math.Abs(name.GetHashCode(StringComparison.Ordinal))}",
        ["components"] = new JsonArray(new JsonObject { ["type"] = "BODY", ["text"] = body }),
    };

    private long NextId() => 900000000000000 + Interlocked.Increment(ref _ids);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var bodyText = "";
        byte[]? raw = null;
        IFormCollection? form = null;
        if (request.HasFormContentType)
            form = await request.ReadFormAsync(context.RequestAborted);
        else
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
            raw = buffer.ToArray();
            bodyText = Encoding.UTF8.GetString(raw);
        }
        if (form is not null)
            bodyText = string.Join("&", form.Select(f => $"{f.Key}={f.Value}")) + (form.Files.Count > 0 ? $"&file={form.Files[0].FileName}" : "");
        JsonObject? json = null;
        try
        {
            if (bodyText.StartsWith('{'))
                json = JsonNode.Parse(bodyText) as JsonObject;
        }
        catch (JsonException)
        {
            // Recorded as text; the handler answers Graph's parse error.
        }
        var recorded = new FakeGraphRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), bodyText, json);
        _requests.Enqueue(recorded);
        if (CloseConnections)
            context.Response.Headers.Connection = "close";

        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        var token = request.Headers.Authorization.ToString() is var auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null;
        var caller = _numbers.Values.FirstOrDefault(n => n.AccessToken == token);

        if (segments is ["media-download", var downloadId])
        {
            if (caller is null)
            {
                await ErrorAsync(context, 401, 190, "Invalid OAuth access token - Cannot parse access token");
                return;
            }
            if (!_media.TryGetValue(downloadId, out var file))
            {
                context.Response.StatusCode = 404;
                return;
            }
            context.Response.ContentType = file.MimeType;
            context.Response.ContentLength = file.Data.Length;
            await context.Response.Body.WriteAsync(file.Data, context.RequestAborted);
            return;
        }
        if (segments.Length < 2 || segments[0] != Version)
        {
            await ErrorAsync(context, 400, 2500, "Unknown path components");
            return;
        }
        if (caller is null)
        {
            await ErrorAsync(context, 401, 190, "Invalid OAuth access token - Cannot parse access token");
            return;
        }

        switch (request.Method, segments[1..])
        {
            case ("GET", [var id]) when _numbers.TryGetValue(id, out var number):
                (int Status, int MetaCode)? lookupFailure = null;
                lock (_gate)
                    if (_lookupFailures.Count > 0)
                        lookupFailure = _lookupFailures.Dequeue();
                if (lookupFailure is { } lf)
                {
                    await ErrorAsync(context, lf.Status, lf.MetaCode, "(#1) An unknown error occurred");
                    return;
                }
                if (number.AccessToken != token)
                {
                    await ErrorAsync(context, 400, 100, $"Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions");
                    return;
                }
                await JsonAsync(context, 200, new JsonObject
                {
                    ["display_phone_number"] = number.DisplayPhoneNumber,
                    ["verified_name"] = number.VerifiedName,
                    ["quality_rating"] = number.QualityRating,
                    ["id"] = number.PhoneNumberId,
                });
                return;
            case ("GET", [var id]) when _media.TryGetValue(id, out var media):
                await JsonAsync(context, 200, new JsonObject
                {
                    ["messaging_product"] = "whatsapp",
                    ["url"] = $"{Root}/media-download/{media.Id}",
                    ["mime_type"] = media.MimeType,
                    ["sha256"] = media.Sha256,
                    ["file_size"] = media.AnnouncedSize ?? media.Data.Length,
                    ["id"] = media.Id,
                });
                return;
            case ("POST", [var id, "messages"]) when Owns(caller, id):
                await MessagesAsync(context, json);
                return;
            case ("POST", [var id, "media"]) when Owns(caller, id):
                if (form?.Files.GetFile("file") is not { } upload || form["messaging_product"] != "whatsapp" || string.IsNullOrEmpty(form["type"]))
                {
                    await ErrorAsync(context, 400, 100, "(#100) The parameter messaging_product, file and type are required.");
                    return;
                }
                using (var stream = new MemoryStream())
                {
                    await upload.CopyToAsync(stream, context.RequestAborted);
                    var mediaId = NextId().ToString(System.Globalization.CultureInfo.InvariantCulture);
                    _media[mediaId] = new FakeGraphMedia(mediaId, stream.ToArray(), form["type"].ToString(), upload.FileName,
                        Convert.ToHexStringLower(SHA256.HashData(stream.ToArray())));
                    await JsonAsync(context, 200, new JsonObject { ["id"] = mediaId });
                }
                return;
            case ("GET", [var waba, "message_templates"]) when caller.BusinessAccountId == waba:
                await TemplatesAsync(context);
                return;
            default:
                await ErrorAsync(context, 400, 100, $"Unsupported {request.Method} request to {request.Path} (or missing permissions)");
                return;
        }
    }

    private static bool Owns(FakeGraphNumber caller, string phoneNumberId) => caller.PhoneNumberId == phoneNumberId;

    private async Task MessagesAsync(HttpContext context, JsonObject? json)
    {
        if (json is null || json["messaging_product"]?.GetValue<string>() != "whatsapp")
        {
            await ErrorAsync(context, 400, 100, "(#100) The parameter messaging_product is required.");
            return;
        }
        if (json["status"]?.GetValue<string>() == "read")
        {
            await JsonAsync(context, 200, new JsonObject { ["success"] = true });
            return;
        }
        (int Status, int? MetaCode, TimeSpan? RetryAfter)? failure = null;
        TimeSpan? delay = null;
        lock (_gate)
        {
            if (_failures.Count > 0)
                failure = _failures.Dequeue();
            if (_delays.Count > 0)
                delay = _delays.Dequeue();
        }
        if (delay is { } wait)
            await Task.Delay(wait, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        if (failure is { } f)
        {
            if (f.RetryAfter is { } after)
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (f.MetaCode is { } code)
                await ErrorAsync(context, f.Status, code, code switch
                {
                    130429 => "(#130429) Rate limit hit",
                    131047 => "Re-engagement message",
                    131026 => "Message undeliverable",
                    _ => "(#131000) Something went wrong",
                });
            else
            {
                context.Response.StatusCode = f.Status;
                await context.Response.WriteAsync("upstream trouble", context.RequestAborted);
            }
            return;
        }
        if (json["type"]?.GetValue<string>() is { } kind && json[kind]?["link"]?.GetValue<string>() is { } link)
            _fetches.Enqueue(await FetchAsync(link, context.RequestAborted));
        var to = json["to"]?.GetValue<string>() ?? "";
        await JsonAsync(context, 200, new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["contacts"] = new JsonArray(new JsonObject { ["input"] = to, ["wa_id"] = new string(to.Where(char.IsAsciiDigit).ToArray()) }),
            ["messages"] = new JsonArray(new JsonObject { ["id"] = $"wamid.HBgM{NextId()}FAKE" }),
        });
    }

    private static async Task<FakeGraphFetch> FetchAsync(string link, CancellationToken ct)
    {
        if (!Uri.TryCreate(link, UriKind.Absolute, out var uri) || !uri.IsLoopback)
            return new FakeGraphFetch(link, 0, null, null, []);
        using var answer = await LinkFetcher.GetAsync(uri, ct);
        return new FakeGraphFetch(link, (int)answer.StatusCode, answer.Content.Headers.ContentType?.ToString(),
            answer.Content.Headers.ContentDisposition?.ToString(), await answer.Content.ReadAsByteArrayAsync(ct));
    }

    private async Task TemplatesAsync(HttpContext context)
    {
        var size = TemplatePageSize;
        if (int.TryParse(context.Request.Query["limit"], out var limit) && limit > 0)
            size = Math.Min(size, limit);
        var after = int.TryParse(context.Request.Query["after"], out var a) ? a : 0;
        List<JsonObject> all;
        lock (_gate)
            all = Templates.Select(t => (JsonObject)t.DeepClone()).ToList();
        var page = all.Skip(after).Take(size).ToList();
        var paging = new JsonObject { ["cursors"] = new JsonObject { ["before"] = $"{after}", ["after"] = $"{after + page.Count}" } };
        if (after + page.Count < all.Count)
            paging["next"] = $"{BaseUrl}/{context.Request.Path.Value!.Split('/')[2]}/message_templates?limit={size}&after={after + page.Count}";
        await JsonAsync(context, 200, new JsonObject { ["data"] = new JsonArray(page.ToArray<JsonNode?>()), ["paging"] = paging });
    }

    private static Task ErrorAsync(HttpContext context, int status, int code, string message) =>
        JsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = message,
                ["type"] = "OAuthException",
                ["code"] = code,
                ["error_data"] = new JsonObject { ["messaging_product"] = "whatsapp", ["details"] = $"{message} (fake Graph)" },
                ["fbtrace_id"] = "AbCdEfFakeTrace",
            },
        });

    private static async Task JsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
