using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Api;

/// <summary>
/// Issue 13 item 7: methods without media take small bodies; media streams into the media store (JSON base64 or a
/// multipart file part) and still works past that limit; large bodies wait for a turn.
/// </summary>
public sealed class LargeBodyTests(SqliteMessagingApp app) : IClassFixture<SqliteMessagingApp>
{
    private const string Send = "/api/method/wap_bridge.api.whatsapp.send_api_message";

    /// <summary>A PDF-signed document of <paramref name="size"/> random bytes.</summary>
    internal static byte[] Document(int size, int seed = 1)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        "%PDF-1.4\n"u8.CopyTo(bytes);
        return bytes;
    }

    private string MediaRoot => Path.Combine(app.DataDir, "media");

    private string StoredPath(byte[] content)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(content));
        return Path.Combine(MediaRoot, hash[..2], hash);
    }

    [Fact]
    public async Task A_2_MB_request_to_a_method_without_media_is_413()
    {
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var body = "{\"padding\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";

        var declared = await client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.accounts.get_account", body, "application/json");
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/method/wap_bridge.api.instances.list_instances")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))),
        };
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        var streamed = await client.SendForAnswerAsync(chunked);

        foreach (var answer in new[] { declared, streamed })
        {
            BadInputTests.AssertErrorBody(answer, 413);
            Assert.Equal("body_too_large", answer.ErrorCode);
            Assert.Contains("MaxArgumentBodyBytes", answer.Body!["error"]!["message"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_media_send_larger_than_the_argument_limit_streams_into_the_media_store()
    {
        var sender = await app.CreateConnectedAsync();
        var document = Document(3 * 1024 * 1024);
        // Line breaks and "\/" as some encoders write them: the streamed decoder must read what a parser would.
        var base64 = Convert.ToBase64String(document, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\\n").Replace("/", "\\/");
        var body = $$"""{"instance_id":"{{sender.InstanceId}}","to_number":"255755123456","mime_type":"application/pdf","filename":"big.pdf","media_data":"data:application/pdf;base64,{{base64}}","caption":"Big"}""";

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Send, body, "application/json");

        answer.EnsureOk();
        var record = await sender.Client.WaitForMessageAsync(answer.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal(document.Length, record["media_size"]!.GetValue<long>());
        Assert.Equal("document", record["type"]!.GetValue<string>());
        Assert.Equal("Big", record["caption"]!.GetValue<string>());
        Assert.Equal(document, await File.ReadAllBytesAsync(StoredPath(document), TestContext.Current.CancellationToken));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(MediaRoot, "staging")));
    }

    [Fact]
    public async Task A_multipart_file_part_is_the_media_with_its_type_and_name()
    {
        var sender = await app.CreateConnectedAsync();
        var document = Document(1500 * 1024, seed: 2);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(sender.InstanceId), "instance_id" },
            { new StringContent("255755123456"), "to_number" },
            { new StringContent("Invoice attached"), "caption" },
        };
        var file = new ByteArrayContent(document);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "invoice.pdf");

        var answer = await sender.Client.SendForAnswerAsync(new HttpRequestMessage(HttpMethod.Post, Send) { Content = form });

        answer.EnsureOk();
        var record = await sender.Client.WaitForMessageAsync(answer.Message!["id"]!.GetValue<string>(), r => true);
        Assert.Equal("invoice.pdf", record["filename"]!.GetValue<string>());
        Assert.Equal("application/pdf", record["mime_type"]!.GetValue<string>());
        Assert.Equal(document.Length, record["media_size"]!.GetValue<long>());
        Assert.Equal(document, await File.ReadAllBytesAsync(StoredPath(document), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Refused_media_leaves_nothing_in_the_media_store()
    {
        var sender = await app.CreateConnectedAsync();
        var document = Document(2 * 1024 * 1024, seed: 3);
        var body = $$"""{"instance_id":"{{sender.InstanceId}}","to_number":"255755123456","mime_type":"image/jpeg","media_data":"{{Convert.ToBase64String(document)}}"}""";

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Send, body, "application/json");

        BadInputTests.AssertErrorBody(answer, 417, "media_data");
        Assert.Equal("media_too_large", answer.ErrorCode);
        Assert.False(File.Exists(StoredPath(document)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(MediaRoot, "staging")));
    }

    [Fact]
    public async Task Invalid_base64_is_417_naming_media_data()
    {
        var sender = await app.CreateConnectedAsync();
        var body = $$"""{"instance_id":"{{sender.InstanceId}}","to_number":"255755123456","mime_type":"application/pdf","media_data":"JVBERi0x{{new string('A', 200_000)}}!!"}""";

        var answer = await sender.Client.SendRawAsync(HttpMethod.Post, Send, body, "application/json");

        BadInputTests.AssertErrorBody(answer, 417, "media_data");
        Assert.Equal("invalid_base64", answer.ErrorCode);
    }
}

/// <summary>One large body at a time, a short wait: the second concurrent one is refused.</summary>
public sealed class OneLargeBodyApp() : WapBridgeApp("sqlite", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Api:LargeBodyBytes"] = "4096",
    ["WapBridge:Api:MaxConcurrentLargeBodies"] = "1",
    ["WapBridge:Api:LargeBodyWait"] = "00:00:00.300",
}), kestrel: true);

public sealed class LargeBodyGateTests(OneLargeBodyApp app) : IClassFixture<OneLargeBodyApp>
{
    /// <summary>A body that sends its first part, then waits until released.</summary>
    private sealed class HeldContent(byte[] first, byte[] rest, Task release) : HttpContent
    {
        public TaskCompletionSource FirstSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            FirstSent.TrySetResult();
            await release;
            await stream.WriteAsync(rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = first.Length + rest.Length;
            return true;
        }
    }

    [Fact]
    public async Task A_large_body_over_the_concurrency_bound_waits_then_gets_429_with_retry_after()
    {
        var sender = await app.CreateConnectedAsync();
        var document = Convert.ToBase64String(LargeBodyTests.Document(64 * 1024));
        var json = Encoding.UTF8.GetBytes($$"""{"instance_id":"{{sender.InstanceId}}","to_number":"255755123456","mime_type":"application/pdf","media_data":"{{document}}"}""");
        var release = new TaskCompletionSource();
        var held = new HeldContent(json[..(json.Length / 2)], json[(json.Length / 2)..], release.Task);
        held.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var first = sender.Client.SendForAnswerAsync(new HttpRequestMessage(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.send_api_message") { Content = held });
        await held.FirstSent.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);

        var second = await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.send_api_message",
            Encoding.UTF8.GetString(json), "application/json");
        var small = await sender.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message",
            new { instance_id = sender.InstanceId, to_number = "255755123456", message = "small bodies never wait" });
        release.SetResult();

        BadInputTests.AssertErrorBody(second, 429);
        Assert.Equal("server_busy", second.ErrorCode);
        Assert.True(int.Parse(second.Response.Headers.GetValues("Retry-After").Single()) >= 1);
        small.EnsureOk();
        (await first).EnsureOk();
        (await sender.Client.SendRawAsync(HttpMethod.Post, "/api/method/wap_bridge.api.whatsapp.send_api_message",
            Encoding.UTF8.GetString(json), "application/json")).EnsureOk();
    }
}
