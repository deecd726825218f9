using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using WapBridge.Core.Messaging;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Tests.Api;

/// <summary>
/// The streamed reading of media arguments decodes exactly what a JSON parser and base64 decoder would, however the
/// body is cut into reads.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MediaStreamingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "media-" + Guid.NewGuid().ToString("N"));
    private MediaStore Store => new(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    /// <summary>Hands out at most a few bytes per read, so every token boundary falls between reads somewhere.</summary>
    private sealed class TrickleStream(byte[] data, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private int _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, _random.Next(1, 8)), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private async Task<FrappeArgumentSet> ReadAsync(string json, int seed)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new TrickleStream(Encoding.UTF8.GetBytes(json), seed);
        return await FrappeArguments.ReadAsync(context.Request,
            new FrappeReadOptions(["media_data"], Store, long.MaxValue, 1 << 20, "MaxBulkBodyBytes"), CancellationToken.None);
    }

    public static TheoryData<string, int> Encodings() => new()
    {
        { "plain", 0 }, { "plain", 1 }, { "plain", 2 }, { "plain", 1000 }, { "plain", 20_000 },
        { "plain", 12286 }, { "plain", 12287 }, { "plain", 12288 }, { "unpadded", 12287 },
        { "lines", 5000 }, { "url-safe", 4099 }, { "unpadded", 4097 }, { "unpadded", 4098 },
        { "data-url", 3000 }, { "escaped", 7000 }, { "unicode-escaped", 300 },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Media_values_decode_to_the_exact_bytes(string encoding, int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        var base64 = Convert.ToBase64String(bytes);
        var text = encoding switch
        {
            "lines" => Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\\r\\n"),
            "url-safe" => base64.Replace('+', '-').Replace('/', '_'),
            "unpadded" => base64.TrimEnd('='),
            "data-url" => "data:application/octet-stream;base64," + base64,
            "escaped" => base64.Replace("/", "\\/"),
            "unicode-escaped" => string.Concat(base64.Select(c => $"\\u{(int)c:x4}")),
            _ => base64,
        };
        for (var seed = 0; seed < 3; seed++)
        {
            await using var set = await ReadAsync($$"""{ "to_number" : "255755123456", "media_data":"{{text}}" , "n": [1, {"a": "}"}] }""", seed);

            Assert.True(set.TryGet("to_number", out var to));
            Assert.Equal("255755123456", to.Json.GetString());
            Assert.True(set.TryGet("n", out var n));
            Assert.Equal("""[1, {"a": "}"}]""", n.Json.GetRawText());
            Assert.True(set.TryGet("media_data", out var media));
            Assert.Null(media.Media.Problem);
            Assert.Equal(size, media.Media.Length);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), media.Media.Hash);
            await using var stored = Store.OpenRead((await media.Media.CommitAsync()).Hash)!;
            var copy = new MemoryStream();
            await stored.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }
    }

    [Fact]
    public async Task Other_arguments_pass_through_the_split_exactly()
    {
        const string names = """["a\"b", "c\\", "{[", "]}", {"x": [1, {"y": "\"}"}], "z": null}, -1.5e3, true]""";
        for (var seed = 0; seed < 5; seed++)
        {
            await using var set = await ReadAsync($$"""{"names": {{names}}, "media_data": "QUJD", "wait": 0}""", seed);

            Assert.True(set.TryGet("names", out var value));
            Assert.Equal(names, value.Json.GetRawText());
            Assert.True(set.TryGet("wait", out var wait));
            Assert.Equal(0, wait.Json.GetInt32());
        }
    }

    [Theory]
    [InlineData("QUJD!")]
    [InlineData("QUJDR")]
    [InlineData("QQ==QQ==")]
    [InlineData("data:text/plain;base64")]
    [InlineData("QUJ\\u00e9")]
    [InlineData("QUJ\\\"D")]
    public async Task Text_that_is_not_base64_marks_the_upload(string text)
    {
        await using var set = await ReadAsync($$"""{"media_data":"{{text}}"}""", 0);

        Assert.True(set.TryGet("media_data", out var media));
        Assert.Equal(Base64MediaDecoder.InvalidBase64, media.Media.Problem);
    }

    [Fact]
    public async Task The_last_duplicate_wins_between_a_media_value_and_another()
    {
        await using var replaced = await ReadAsync("""{"media_data":"QUJD","media_data":null}""", 0);
        await using var kept = await ReadAsync("""{"media_data":null,"media_data":"QUJD"}""", 0);

        Assert.True(replaced.TryGet("media_data", out var none));
        Assert.Equal(ArgumentSource.Json, none.Source);
        Assert.True(kept.TryGet("media_data", out var media));
        Assert.Equal(3, media.Media.Length);
    }

    [Theory]
    [InlineData("""{"media_data":"QUJD" """)]
    [InlineData("""{"media_data":"QUJD"} x""")]
    [InlineData("""{"a":1 "b":2}""")]
    [InlineData("""{"a":[1,2}""")]
    [InlineData("""{"a" 1}""")]
    public async Task Broken_json_is_417_naming_the_body(string json)
    {
        var error = await Assert.ThrowsAsync<WapBridge.Core.Common.WapBridgeException>(() => ReadAsync(json, 0));
        Assert.Equal("body", error.Field);
        Assert.Equal("invalid_json", error.Code);
    }

    [Fact]
    public async Task Arguments_beside_the_media_are_bounded()
    {
        var json = $$"""{"media_data":"QUJD","recipients":"{{new string('1', 2 << 20)}}"}""";
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ReadAsync(json, 0));
        Assert.Equal("BodyTooLargeException", error.GetType().Name);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "staging")));
    }
}
