using System.Buffers;
using System.Buffers.Text;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Decodes base64 text into a <see cref="MediaUpload"/> piece by piece, so a large <c>media_data</c> is never held
/// whole. Accepts what contract §2 allows: a <c>data:…,</c> prefix, line breaks and spaces, the URL-safe alphabet,
/// missing padding. Text that is not base64 marks the upload with <see cref="InvalidBase64"/> instead of throwing,
/// so the rest of the request can still be read (a later duplicate argument may replace it).
/// </summary>
public sealed class Base64MediaDecoder(MediaUpload upload)
{
    public const string InvalidBase64 = "invalid_base64";

    private const int CharBlock = 16384;
    private static ReadOnlySpan<byte> DataPrefix => "data:"u8;

    private readonly byte[] _chars = new byte[CharBlock];
    private int _charCount;
    private byte[] _decoded = [];
    private int _decodedCount;
    private Stage _stage;
    private int _prefixMatched;
    private bool _padded;

    private enum Stage { Start, DataPrefix, Body, Invalid }

    public MediaUpload Upload { get; } = upload;

    /// <summary>Takes more base64 text; call <see cref="FlushAsync"/> before the next piece.</summary>
    public void Append(ReadOnlySpan<byte> text)
    {
        if (_stage == Stage.Invalid)
            return;
        var room = _decodedCount + (_charCount + text.Length) / 4 * 3 + 3;
        if (_decoded.Length < room)
        {
            var bigger = new byte[Math.Max(room, Math.Min(_decoded.Length * 2, 1 << 20))];
            _decoded.AsSpan(0, _decodedCount).CopyTo(bigger);
            _decoded = bigger;
        }
        foreach (var c in text)
        {
            switch (_stage)
            {
                case Stage.Start:
                    if (c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' && _prefixMatched == 0)
                        continue;
                    if (_prefixMatched < DataPrefix.Length && (c | 0x20) == DataPrefix[_prefixMatched])
                    {
                        if (++_prefixMatched == DataPrefix.Length)
                            _stage = Stage.DataPrefix;
                        continue;
                    }
                    // Not a data: URL after all: the letters matched so far are base64 text.
                    _stage = Stage.Body;
                    for (var i = 0; i < _prefixMatched && _stage == Stage.Body; i++)
                        Take(DataPrefix[i]);
                    if (_stage == Stage.Body)
                        Take(c);
                    break;
                case Stage.DataPrefix:
                    if (c == (byte)',')
                        _stage = Stage.Body;
                    break;
                case Stage.Body:
                    Take(c);
                    break;
                case Stage.Invalid:
                    return;
            }
        }
    }

    private void Take(byte c)
    {
        switch (c)
        {
            case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                return;
            case (byte)'-':
                c = (byte)'+';
                break;
            case (byte)'_':
                c = (byte)'/';
                break;
        }
        var isPadding = c == (byte)'=';
        if (!isPadding && (_padded || !IsBase64Char(c)))
        {
            Fail();
            return;
        }
        _padded |= isPadding;
        if (_charCount == _chars.Length)
        {
            if (_padded)
            {
                Fail();
                return;
            }
            Decode(final: false);
        }
        _chars[_charCount++] = c;
    }

    private static bool IsBase64Char(byte c) =>
        c is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'+' or (byte)'/';

    private void Decode(bool final)
    {
        var usable = final ? _charCount : _charCount / 4 * 4;
        var status = Base64.DecodeFromUtf8(_chars.AsSpan(0, usable), _decoded.AsSpan(_decodedCount), out var consumed, out var written, final);
        if (status is not (OperationStatus.Done or OperationStatus.NeedMoreData) || (final && status != OperationStatus.Done))
        {
            Fail();
            return;
        }
        _decodedCount += written;
        _chars.AsSpan(consumed, _charCount - consumed).CopyTo(_chars);
        _charCount -= consumed;
    }

    private void Fail()
    {
        _stage = Stage.Invalid;
        _decodedCount = 0;
        Upload.Problem = InvalidBase64;
    }

    /// <summary>Writes what has been decoded so far to the upload.</summary>
    public async ValueTask FlushAsync(CancellationToken ct)
    {
        if (_decodedCount > 0)
            await Upload.WriteAsync(_decoded.AsMemory(0, _decodedCount), ct);
        _decodedCount = 0;
    }

    /// <summary>The text is over: decodes the last characters (padding them when the sender left it off) and completes the upload.</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (_stage == Stage.DataPrefix)
            Fail();
        if (_stage == Stage.Start && _prefixMatched > 0)
        {
            // A few letters of "data" and then the end: they were base64.
            _stage = Stage.Body;
            for (var i = 0; i < _prefixMatched && _stage == Stage.Body; i++)
                Take(DataPrefix[i]);
        }
        if (_stage != Stage.Invalid && _charCount % 4 == 1)
            Fail();
        if (_stage != Stage.Invalid && _charCount > 0)
        {
            if (_decoded.Length < _decodedCount + 3)
                Array.Resize(ref _decoded, _decodedCount + 3);
            while (_charCount % 4 != 0)
                _chars[_charCount++] = (byte)'=';
            Decode(final: true);
        }
        await FlushAsync(ct);
        await Upload.CompleteAsync(ct);
    }

    /// <summary>Decodes base64 already in a string (a dashboard upload, a form field) into <paramref name="upload"/>.</summary>
    public static async Task DecodeAsync(string text, MediaUpload upload, CancellationToken ct)
    {
        var decoder = new Base64MediaDecoder(upload);
        var bytes = ArrayPool<byte>.Shared.Rent(CharBlock);
        try
        {
            for (var start = 0; start < text.Length; start += CharBlock)
            {
                var piece = text.AsSpan(start, Math.Min(CharBlock, text.Length - start));
                // Base64 is ASCII: anything else is refused, not transcoded.
                var n = 0;
                foreach (var ch in piece)
                    bytes[n++] = ch < 128 ? (byte)ch : (byte)'*';
                decoder.Append(bytes.AsSpan(0, n));
                await decoder.FlushAsync(ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
        await decoder.CompleteAsync(ct);
    }
}
