using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WapBridge.Tests.Api;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Messaging;

/// <summary>
/// A file server on 127.0.0.1 for <c>media_url</c>: each test maps the answers it needs. It records the paths asked
/// for, and a request parked by <see cref="Hold"/> waits until released (or the client gives up).
/// </summary>
public sealed class MediaServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _requests = new();

    private MediaServer(WebApplication app) => _app = app;

    public TaskCompletionSource Hold { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Requests => _requests.ToList();

    public string Url(string path) => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + path;

    public static async Task<MediaServer> StartAsync(Action<WebApplication, MediaServer> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new MediaServer(app);
        app.Use(async (context, next) =>
        {
            server._requests.Enqueue(context.Request.Path + context.Request.QueryString);
            await next(context);
        });
        map(app, server);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return server;
    }

    public static IResult File(byte[] bytes, string contentType) => Results.Bytes(bytes, contentType);

    public async ValueTask DisposeAsync()
    {
        Hold.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Fetch deadline short for the slow-server test; one fetch per customer at a time, so the turn-taking shows.</summary>
public static class MediaUrlSettings
{
    public static Dictionary<string, string?> Settings() => FastMessaging.Settings(new Dictionary<string, string?>
    {
        ["WapBridge:Messaging:MediaFetchTimeout"] = "00:00:03",
        ["WapBridge:Messaging:MediaFetchesPerCustomer"] = "1",
    });
}

public sealed class SqliteMediaUrlApp() : WapBridgeApp("sqlite", MediaUrlSettings.Settings());

public sealed class PostgresMediaUrlApp() : WapBridgeApp("postgres", MediaUrlSettings.Settings());

/// <summary>Issue 18: <c>send_api_message</c> with <c>media_url</c> (contract §9), and multipart refusals.</summary>
public abstract class MediaUrlTests(WapBridgeApp app)
{
    private const string Send = "wap_bridge.api.whatsapp.send_api_message";
    private const int ImageLimit = 65536;  // FastMessaging's image limit

    /// <summary>A PNG-signed image of <paramref name="size"/> bytes.</summary>
    private static byte[] Png(int size, int seed = 1)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
        return bytes;
    }

    private static object Args(SendingCustomer sender, string url, object? extra = null) => extra ?? new
    {
        instance_id = sender.InstanceId,
        to_number = "255755123456",
        media_url = url,
        caption = "From a link",
    };

    /// <summary>A refusal leaves no message and nothing half-written in the media store.</summary>
    private async Task AssertNothingKeptAsync(SendingCustomer sender)
    {
        var listed = (await sender.Client.CallAsync("wap_bridge.api.whatsapp.list_messages", new { instance_id = sender.InstanceId })).EnsureOk();
        Assert.Equal(0, listed.Message!["total"]!.GetValue<int>());
        var staging = Path.Combine(app.DataDir, "media", "staging");
        Assert.Empty(Directory.Exists(staging) ? Directory.EnumerateFiles(staging) : []);
    }

    private static void AssertRefused(ApiAnswer answer, string code, string? says = null)
    {
        BadInputTests.AssertErrorBody(answer, 417, "media_url");
        Assert.Equal(code, answer.ErrorCode);
        if (says is not null)
            Assert.Contains(says, answer.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_image_at_a_url_is_fetched_stored_and_sent_as_an_image()
    {
        app.SkipIfUnavailable();
        var image = Png(20_000);
        await using var server = await MediaServer.StartAsync((web, _) => web.MapGet("/pics/photo.png", () => MediaServer.File(image, "image/png")));
        var sender = await app.CreateConnectedAsync();

        var answer = (await sender.Client.CallAsync(Send, Args(sender, server.Url("/pics/photo.png")))).EnsureOk();

        var record = await sender.Client.WaitForMessageAsync(answer.Message!["id"]!.GetValue<string>(), r => r["status"]!.GetValue<string>() != "queued");
        Assert.Equal("image", record["type"]!.GetValue<string>());
        Assert.Equal("image/png", record["mime_type"]!.GetValue<string>());
        Assert.Equal("photo.png", record["filename"]!.GetValue<string>());
        Assert.Equal("From a link", record["caption"]!.GetValue<string>());
        Assert.Equal(image.Length, record["media_size"]!.GetValue<long>());
        Assert.NotEqual("failed", record["status"]!.GetValue<string>());
        if (app.Provider == "sqlite")
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(image));
            Assert.Equal(image, await System.IO.File.ReadAllBytesAsync(Path.Combine(app.DataDir, "media", hash[..2], hash), TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task The_name_comes_from_content_disposition_and_the_filename_argument_wins_over_it()
    {
        app.SkipIfUnavailable();
        var pdf = LargeBodyTests.Document(5000);
        await using var server = await MediaServer.StartAsync((web, _) => web.MapGet("/download", (HttpContext context) =>
        {
            context.Response.Headers.ContentDisposition = "attachment; filename=\"report.pdf\"";
            return MediaServer.File(pdf, "application/pdf");
        }));
        var sender = await app.CreateConnectedAsync();

        // A form-encoded body, as Frappe clients send it.
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["instance_id"] = sender.InstanceId, ["to_number"] = "255755123456", ["media_url"] = server.Url("/download?id=7"),
        });
        var named = (await sender.Client.SendForAnswerAsync(new HttpRequestMessage(HttpMethod.Post, "/api/method/" + Send) { Content = form })).EnsureOk();
        var renamed = (await sender.Client.CallAsync(Send, new
        {
            instance_id = sender.InstanceId, to_number = "255755123456", media_url = server.Url("/download"), filename = "invoice-7.pdf",
        })).EnsureOk();

        var first = await sender.Client.WaitForMessageAsync(named.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("report.pdf", first["filename"]!.GetValue<string>());
        Assert.Equal("document", first["type"]!.GetValue<string>());
        var second = await sender.Client.WaitForMessageAsync(renamed.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("invoice-7.pdf", second["filename"]!.GetValue<string>());
    }

    [Fact]
    public async Task Too_large_by_content_length_or_by_an_endless_chunked_body_is_417_and_nothing_is_kept()
    {
        app.SkipIfUnavailable();
        await using var server = await MediaServer.StartAsync((web, _) =>
        {
            web.MapGet("/big.png", () => MediaServer.File(Png(ImageLimit + 1), "image/png"));
            web.MapGet("/endless.png", async (HttpContext context) =>
            {
                // No Content-Length: only counting while reading can stop it.
                context.Response.ContentType = "image/png";
                var chunk = Png(8192);
                while (!context.RequestAborted.IsCancellationRequested)
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted).AsTask().ContinueWith(_ => { });
            });
        });
        var sender = await app.CreateConnectedAsync();

        var declared = await sender.Client.CallAsync(Send, Args(sender, server.Url("/big.png")));
        var endless = await sender.Client.CallAsync(Send, Args(sender, server.Url("/endless.png")));

        AssertRefused(declared, "media_too_large", $"{ImageLimit:N0} bytes");
        AssertRefused(endless, "media_too_large", $"{ImageLimit:N0} bytes");
        await AssertNothingKeptAsync(sender);
    }

    [Fact]
    public async Task A_server_slower_than_the_fetch_timeout_is_417_within_it()
    {
        app.SkipIfUnavailable();
        await using var server = await MediaServer.StartAsync((web, self) => web.MapGet("/slow.png", async (HttpContext context) =>
        {
            await self.Hold.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            return MediaServer.File(Png(100), "image/png");
        }));
        var sender = await app.CreateConnectedAsync();
        var clock = Stopwatch.StartNew();

        var answer = await sender.Client.CallAsync(Send, Args(sender, server.Url("/slow.png")));

        AssertRefused(answer, "media_url_timeout", "could not fetch media_url: no complete answer within 3 s");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(15));
        await AssertNothingKeptAsync(sender);
    }

    [Theory]
    [InlineData("http://10.0.0.1/photo.png")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[fd00::1]/x.png")]
    public async Task A_private_address_is_refused_before_any_connection(string url)
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.CallAsync(Send, Args(sender, url));

        AssertRefused(answer, "target_refused", "not at a public address");
        await AssertNothingKeptAsync(sender);
    }

    [Fact]
    public async Task A_redirect_to_a_refused_address_is_417_and_redirect_chains_are_capped()
    {
        app.SkipIfUnavailable();
        await using var server = await MediaServer.StartAsync((web, self) =>
        {
            web.MapGet("/inward", () => Results.Redirect("http://10.0.0.1/internal.png"));
            web.MapGet("/hop/{n:int}", (int n) => Results.Redirect(self.Url($"/hop/{n + 1}")));
            web.MapGet("/moved", () => Results.Redirect("/pics/final.png"));
            web.MapGet("/pics/final.png", () => MediaServer.File(Png(300), "image/png"));
        });
        var sender = await app.CreateConnectedAsync();

        var inward = await sender.Client.CallAsync(Send, Args(sender, server.Url("/inward")));
        var chain = await sender.Client.CallAsync(Send, Args(sender, server.Url("/hop/0")));

        AssertRefused(inward, "target_refused");
        AssertRefused(chain, "too_many_redirects", "more than 3");
        Assert.Equal(4, server.Requests.Count(r => r.StartsWith("/hop/", StringComparison.Ordinal)));
        await AssertNothingKeptAsync(sender);

        // A relative redirect on the same (allowed) server is followed.
        var moved = (await sender.Client.CallAsync(Send, Args(sender, server.Url("/moved")))).EnsureOk();
        var record = await sender.Client.WaitForMessageAsync(moved.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("final.png", record["filename"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_non_2xx_answer_is_417_naming_the_status()
    {
        app.SkipIfUnavailable();
        await using var server = await MediaServer.StartAsync((web, _) => web.MapGet("/gone.png", () => Results.StatusCode(404)));
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.CallAsync(Send, Args(sender, server.Url("/gone.png")));

        AssertRefused(answer, "media_url_status", "HTTP 404");
        await AssertNothingKeptAsync(sender);
    }

    [Fact]
    public async Task Bytes_that_contradict_the_type_or_a_web_page_are_417()
    {
        app.SkipIfUnavailable();
        await using var server = await MediaServer.StartAsync((web, _) =>
        {
            web.MapGet("/fake.png", () => MediaServer.File("not a picture at all"u8.ToArray(), "image/png"));
            web.MapGet("/login", () => Results.Content("<html><body>Please log in</body></html>", "text/html"));
        });
        var sender = await app.CreateConnectedAsync();

        var fake = await sender.Client.CallAsync(Send, Args(sender, server.Url("/fake.png")));
        var page = await sender.Client.CallAsync(Send, Args(sender, server.Url("/login")));

        AssertRefused(fake, "mime_type_mismatch");
        AssertRefused(page, "not_a_file", "text/html");
        await AssertNothingKeptAsync(sender);
    }

    [Fact]
    public async Task Media_data_and_media_url_together_are_417_and_nothing_is_fetched()
    {
        app.SkipIfUnavailable();
        await using var server = await MediaServer.StartAsync((web, _) => web.MapGet("/photo.png", () => MediaServer.File(Png(100), "image/png")));
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.CallAsync(Send, new
        {
            instance_id = sender.InstanceId, to_number = "255755123456", media_url = server.Url("/photo.png"),
            media_data = Convert.ToBase64String(Png(100)), mime_type = "image/png",
        });

        AssertRefused(answer, "conflicting_media", "not both");
        Assert.Empty(server.Requests);
        await AssertNothingKeptAsync(sender);
    }

    [Theory]
    [InlineData("ftp://files.invalid/a.png")]
    [InlineData("file:///etc/passwd")]
    [InlineData("https://user:pw@files.invalid/a.png")]
    [InlineData("/relative/a.png")]
    public async Task A_url_that_is_not_plain_http_is_417_without_a_lookup(string url)
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        var answer = await sender.Client.CallAsync(Send, Args(sender, url));

        AssertRefused(answer, "invalid_url");
    }

    [Fact]
    public async Task A_slow_server_only_delays_its_own_customer()
    {
        app.SkipIfUnavailable();
        var image = Png(1000, seed: 5);
        await using var server = await MediaServer.StartAsync((web, self) =>
        {
            web.MapGet("/hang.png", async (HttpContext context) =>
            {
                await self.Hold.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
                return MediaServer.File(image, "image/png");
            });
            web.MapGet("/quick.png", () => MediaServer.File(image, "image/png"));
        });
        var hostile = await app.CreateConnectedAsync();
        var other = await app.CreateConnectedAsync();

        var first = hostile.Client.CallAsync(Send, Args(hostile, server.Url("/hang.png?1")));
        var second = hostile.Client.CallAsync(Send, Args(hostile, server.Url("/hang.png?2")));
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (server.Requests.Count == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20, TestContext.Current.CancellationToken);

        var answer = await other.Client.CallAsync(Send, Args(other, server.Url("/quick.png")));

        answer.EnsureOk();
        // The hostile customer's second fetch waits for its own turn (one at a time here), not the other customer's.
        Assert.Single(server.Requests, r => r.StartsWith("/hang.png", StringComparison.Ordinal));
        server.Hold.TrySetResult();
        (await first).EnsureOk();
        (await second).EnsureOk();
    }

    [Fact]
    public async Task The_openapi_document_describes_media_url_and_the_multipart_form()
    {
        app.SkipIfUnavailable();
        using var client = app.CreateApiClient();
        var document = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        var content = document["paths"]!["/api/method/" + Send]!["post"]!["requestBody"]!["content"]!;

        var multipart = content["multipart/form-data"]!["schema"]!;
        Assert.Equal("binary", multipart["properties"]!["file"]!["format"]!.GetValue<string>());
        var json = content["application/json"]!["schema"]!.ToJsonString();
        var properties = (json.Contains("$ref") ? document["components"]!["schemas"]![json.Split("schemas/")[1].Split('"')[0]]! : content["application/json"]!["schema"]!)["properties"]!;
        Assert.Contains("fetches", properties["media_url"]!["description"]!.GetValue<string>());
        Assert.Null(document["paths"]!["/api/method/wap_bridge.api.whatsapp.message_status"]!["post"]!["requestBody"]!["content"]!["multipart/form-data"]);
    }

    [Fact]
    public async Task A_multipart_file_part_over_its_limit_or_of_the_wrong_type_is_417_and_nothing_is_kept()
    {
        app.SkipIfUnavailable();
        var sender = await app.CreateConnectedAsync();

        async Task<ApiAnswer> UploadAsync(byte[] bytes, string type, string name)
        {
            using var form = new MultipartFormDataContent
            {
                { new StringContent(sender.InstanceId), "instance_id" },
                { new StringContent("255755123456"), "to_number" },
            };
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue(type);
            form.Add(file, "file", name);
            return await sender.Client.SendForAnswerAsync(new HttpRequestMessage(HttpMethod.Post, "/api/method/" + Send) { Content = form });
        }

        var large = await UploadAsync(Png(ImageLimit + 10), "image/png", "big.png");
        var mismatched = await UploadAsync(LargeBodyTests.Document(4000), "image/png", "not-a-picture.png");

        BadInputTests.AssertErrorBody(large, 417, "file");
        Assert.Equal("media_too_large", large.ErrorCode);
        BadInputTests.AssertErrorBody(mismatched, 417, "mime_type");
        Assert.Equal("mime_type_mismatch", mismatched.ErrorCode);
        await AssertNothingKeptAsync(sender);

        var image = Png(3000, seed: 9);
        var sent = (await UploadAsync(image, "image/png", "ok.png")).EnsureOk();
        var record = await sender.Client.WaitForMessageAsync(sent.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("image", record["type"]!.GetValue<string>());
        Assert.Equal("ok.png", record["filename"]!.GetValue<string>());
        Assert.Equal(image.Length, record["media_size"]!.GetValue<long>());
    }
}

public sealed class SqliteMediaUrlTests(SqliteMediaUrlApp app) : MediaUrlTests(app), IClassFixture<SqliteMediaUrlApp>;

public sealed class PostgresMediaUrlTests(PostgresMediaUrlApp app) : MediaUrlTests(app), IClassFixture<PostgresMediaUrlApp>;
