using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>One line read by <see cref="ProtocolLineReader"/>: its bytes, or only the start of a line that was too long.</summary>
internal readonly record struct ProtocolLine(byte[] Bytes, bool TooLong, long BytesSoFar);

/// <summary>
/// Splits the bridge's output into lines in linear time: every byte is scanned once and a line is copied once, when its
/// newline arrives. A line longer than the limit is handed back at once as <see cref="ProtocolLine.TooLong"/> with its
/// first bytes (to read its type and id from), and the rest of it is skipped unbuffered up to the next newline.
/// </summary>
internal sealed partial class ProtocolLineReader(Stream stream, int maxLineBytes)
{
    /// <summary>How much of a refused line is kept to read its <c>type</c>, <c>id</c> and <c>session</c> from.</summary>
    public const int HeadBytes = 1024;

    // A line buffer grown by a big line is dropped afterwards, so one large message does not pin its memory.
    private const int RetainedCapacity = 256 * 1024;

    private readonly byte[] _buffer = new byte[64 * 1024];
    private ArrayBufferWriter<byte> _line = new(4096);
    private int _start;
    private int _end;
    private bool _discarding;
    private long _discarded;

    public int MaxLineBytes { get; } = Math.Max(1, maxLineBytes);

    /// <summary>The next line (without its <c>\n</c> or <c>\r\n</c>), or null at the end of the stream.</summary>
    public async ValueTask<ProtocolLine?> ReadLineAsync(CancellationToken ct = default)
    {
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buffer, ct);
                if (_end == 0)
                {
                    if (_discarding || _line.WrittenCount == 0)
                        return null;
                    return TakeLine(); // a last line without its newline still counts
                }
            }
            var available = _buffer.AsSpan(_start, _end - _start);
            var newline = available.IndexOf((byte)'\n');
            var segment = newline >= 0 ? available[..newline] : available;
            _start += newline >= 0 ? newline + 1 : available.Length;

            if (_discarding)
            {
                _discarded += segment.Length;
                if (newline >= 0)
                    _discarding = false;
                continue;
            }
            if ((long)_line.WrittenCount + segment.Length > MaxLineBytes)
            {
                var head = new byte[Math.Min(HeadBytes, _line.WrittenCount + segment.Length)];
                var fromLine = Math.Min(head.Length, _line.WrittenCount);
                _line.WrittenSpan[..fromLine].CopyTo(head);
                segment[..(head.Length - fromLine)].CopyTo(head.AsSpan(fromLine));
                var soFar = (long)_line.WrittenCount + segment.Length;
                ResetLine();
                _discarding = newline < 0;
                _discarded = soFar;
                return new ProtocolLine(head, TooLong: true, soFar);
            }
            _line.Write(segment);
            if (newline >= 0)
                return TakeLine();
        }
    }

    private ProtocolLine TakeLine()
    {
        var span = _line.WrittenSpan;
        if (span.Length > 0 && span[^1] == (byte)'\r')
            span = span[..^1];
        var bytes = span.ToArray();
        ResetLine();
        return new ProtocolLine(bytes, TooLong: false, bytes.Length);
    }

    private void ResetLine()
    {
        if (_line.Capacity > RetainedCapacity)
            _line = new ArrayBufferWriter<byte>(4096);
        else
            _line.ResetWrittenCount();
    }

    /// <summary>The <c>type</c>, <c>id</c> and <c>session</c> a refused line starts with, when they are there.</summary>
    public static (string? Type, string? Id, string? Session) ReadHead(byte[] head)
    {
        var text = Encoding.UTF8.GetString(head);
        return (Field(TypePattern(), text), Field(IdPattern(), text), Field(SessionPattern(), text));
    }

    private static string? Field(Regex pattern, string text) => pattern.Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex("\"type\"\\s*:\\s*\"([^\"\\\\]{1,40})\"")]
    private static partial Regex TypePattern();

    [GeneratedRegex("\"id\"\\s*:\\s*\"([^\"\\\\]{1,200})\"")]
    private static partial Regex IdPattern();

    [GeneratedRegex("\"session\"\\s*:\\s*\"([^\"\\\\]{1,200})\"")]
    private static partial Regex SessionPattern();
}
