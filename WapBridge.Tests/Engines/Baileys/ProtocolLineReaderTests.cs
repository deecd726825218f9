using System.Diagnostics;
using System.Text;
using WapBridge.Core.Engines.Baileys;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The host's reader of bridge output: linear in the bytes read, and a line over the limit refused at once.</summary>
[Trait("Category", "Unit")]
public sealed class ProtocolLineReaderTests
{
    /// <summary>A stream that hands out its bytes in small reads, as a pipe does.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], ct);
    }

    private static async Task<List<ProtocolLine>> ReadAllAsync(ProtocolLineReader reader)
    {
        var lines = new List<ProtocolLine>();
        while (await reader.ReadLineAsync() is { } line)
            lines.Add(line);
        return lines;
    }

    [Fact]
    public async Task A_40_MB_line_in_small_reads_is_read_in_linear_time()
    {
        var payload = new string('x', 40 * 1024 * 1024);
        var data = Encoding.UTF8.GetBytes($"{{\"type\":\"event\",\"blob\":\"{payload}\"}}\n{{\"type\":\"ready\"}}\n");
        var reader = new ProtocolLineReader(new ChunkedStream(data, 65536), 64 * 1024 * 1024);
        var watch = Stopwatch.StartNew();
        var lines = await ReadAllAsync(reader);
        watch.Stop();
        Assert.Equal(2, lines.Count);
        Assert.Equal(data.Length - "{\"type\":\"ready\"}\n".Length - 1, lines[0].Bytes.Length);
        Assert.Equal("{\"type\":\"ready\"}", Encoding.UTF8.GetString(lines[1].Bytes));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"reading took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_line_over_the_limit_comes_back_at_once_with_its_start_and_the_rest_is_skipped()
    {
        var big = "{\"type\":\"response\",\"id\":\"r7\",\"ok\":true,\"result\":{\"blob\":\"" + new string('y', 10_000) + "\"}}";
        var data = Encoding.UTF8.GetBytes(big + "\r\n{\"type\":\"event\",\"id\":\"e1\"}\r\nlast without newline");
        var reader = new ProtocolLineReader(new ChunkedStream(data, 100), 1000);

        var refused = (await reader.ReadLineAsync())!.Value;
        Assert.True(refused.TooLong);
        Assert.Equal(ProtocolLineReader.HeadBytes, refused.Bytes.Length);
        Assert.True(refused.BytesSoFar is > 1000 and <= 1100, $"refused after {refused.BytesSoFar} bytes, not at its end");
        Assert.Equal(("response", "r7", (string?)null), ProtocolLineReader.ReadHead(refused.Bytes));

        var next = (await reader.ReadLineAsync())!.Value;
        Assert.False(next.TooLong);
        Assert.Equal("{\"type\":\"event\",\"id\":\"e1\"}", Encoding.UTF8.GetString(next.Bytes));
        Assert.Equal("last without newline", Encoding.UTF8.GetString((await reader.ReadLineAsync())!.Value.Bytes));
        Assert.Null(await reader.ReadLineAsync());
    }

    [Fact]
    public async Task A_line_exactly_at_the_limit_passes()
    {
        var reader = new ProtocolLineReader(new ChunkedStream("0123456789\n01234567890\nok\n"u8.ToArray(), 3), 10);
        var lines = await ReadAllAsync(reader);
        Assert.Equal(["0123456789", "01234567890", "ok"], lines.Select(l => Encoding.UTF8.GetString(l.Bytes)));
        Assert.Equal([false, true, false], lines.Select(l => l.TooLong));
    }
}
