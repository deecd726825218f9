using System.Buffers;
using System.Text.Json;
using WapBridge.Core.Messaging;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// Reads a JSON object of arguments as it arrives and takes the string values of media arguments out of it: their
/// base64 goes straight into <see cref="MediaUpload"/>s, and the other members are copied into a small JSON object
/// parsed once afterwards. So a 100 MB <c>media_data</c> is never a string, a node or a second buffer.
/// The splitter only tracks the structure; the rewritten object is validated by the parser that reads it.
/// </summary>
internal sealed class JsonArgumentSplitter(Func<string, bool> isMediaArgument, Func<string, MediaUpload> beginUpload, long budget, string budgetSetting)
{
    private const int MaxNameBytes = 1024;

    private readonly ArrayBufferWriter<byte> _structure = new(4096);
    private readonly byte[] _name = new byte[MaxNameBytes + 2];
    private readonly List<Base64MediaDecoder> _finished = [];
    private int _nameLength;
    private string? _currentName;
    private State _state = State.Start;
    private int _depth;
    private int _members;
    private int _unicodeDigits;
    private int _unicodeValue;
    private Base64MediaDecoder? _media;
    private readonly byte[] _one = new byte[1];

    private enum State
    {
        Start, BeforeName, InName, InNameEscape, AfterName, BeforeValue,
        InValue, InValueString, InValueStringEscape, AfterValue, End,
        InMedia, InMediaEscape, InMediaUnicode,
    }

    /// <summary>Members in the order they came: null for one copied into the structure, else the media it became.</summary>
    public List<(string Name, MediaUpload Upload)?> Members { get; } = [];

    /// <summary>The decoder of a media value still arriving, to be flushed after each chunk.</summary>
    public Base64MediaDecoder? Active => _media;

    /// <summary>Decoders whose value ended in the last chunk, to be completed.</summary>
    public List<Base64MediaDecoder> Finished => _finished;

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        var i = 0;
        while (i < chunk.Length)
        {
            // The bulk of a large body is the inside of strings and lists: whole runs up to the next byte that matters
            // go to the decoder (media) or the rewritten object at once.
            var rest = chunk[i..];
            var stop = _state switch
            {
                State.InMedia or State.InValueString => rest.IndexOfAny((byte)'"', (byte)'\\'),
                State.InValue when _depth > 0 => rest.IndexOfAny(Structural),
                _ => 0,
            };
            if (stop != 0)
            {
                var run = stop < 0 ? rest : rest[..stop];
                if (_state == State.InMedia)
                    _media!.Append(run);
                else
                    Write(run);
                i += run.Length;
                if (stop < 0)
                    return;
            }
            Step(chunk[i++]);
        }
    }

    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);

    private void Step(byte c)
    {
        switch (_state)
        {
            case State.Start:
                if (IsSpace(c)) return;
                Expect(c == (byte)'{');
                _structure.Write("{"u8);
                _state = State.BeforeName;
                return;
            case State.BeforeName:
                if (IsSpace(c)) return;
                if (c == (byte)'}')
                {
                    _state = State.End;
                    return;
                }
                Expect(c == (byte)'"');
                _nameLength = 0;
                AppendName(c);
                _state = State.InName;
                return;
            case State.InName:
                AppendName(c);
                if (c == (byte)'\\')
                    _state = State.InNameEscape;
                else if (c == (byte)'"')
                {
                    _currentName = DecodeName();
                    _state = State.AfterName;
                }
                return;
            case State.InNameEscape:
                AppendName(c);
                _state = State.InName;
                return;
            case State.AfterName:
                if (IsSpace(c)) return;
                Expect(c == (byte)':');
                _state = State.BeforeValue;
                return;
            case State.BeforeValue:
                if (IsSpace(c)) return;
                if (c == (byte)'"' && _currentName is { } name && isMediaArgument(name))
                {
                    _media = new Base64MediaDecoder(beginUpload(name));
                    Members.Add((name, _media.Upload));
                    _state = State.InMedia;
                    return;
                }
                Members.Add(null);
                if (_members++ > 0)
                    Write((byte)',');
                Write(_name.AsSpan(0, _nameLength));
                Write((byte)':');
                Write(c);
                _depth = c is (byte)'{' or (byte)'[' ? 1 : 0;
                _state = c == (byte)'"' ? State.InValueString : State.InValue;
                return;
            case State.InValue:
                if (_depth == 0)
                {
                    // A number, true, false or null ends where the next token starts.
                    if (IsSpace(c) || c is (byte)',' or (byte)'}')
                    {
                        _state = State.AfterValue;
                        Step(c);
                        return;
                    }
                    Write(c);
                    return;
                }
                Write(c);
                if (c == (byte)'"')
                    _state = State.InValueString;
                else if (c is (byte)'{' or (byte)'[')
                    _depth++;
                else if (c is (byte)'}' or (byte)']' && --_depth == 0)
                    _state = State.AfterValue;
                return;
            case State.InValueString:
                Write(c);
                if (c == (byte)'\\')
                    _state = State.InValueStringEscape;
                else if (c == (byte)'"')
                    _state = _depth == 0 ? State.AfterValue : State.InValue;
                return;
            case State.InValueStringEscape:
                Write(c);
                _state = State.InValueString;
                return;
            case State.AfterValue:
                if (IsSpace(c)) return;
                if (c == (byte)',')
                    _state = State.BeforeName;
                else if (c == (byte)'}')
                    _state = State.End;
                else
                    Expect(false);
                return;
            case State.End:
                Expect(IsSpace(c));
                return;
            case State.InMedia:
                if (c == (byte)'"')
                {
                    _finished.Add(_media!);
                    _media = null;
                    _state = State.AfterValue;
                }
                else
                {
                    _state = State.InMediaEscape;
                }
                return;
            case State.InMediaEscape:
                _state = State.InMedia;
                switch (c)
                {
                    case (byte)'u':
                        _unicodeDigits = 0;
                        _unicodeValue = 0;
                        _state = State.InMediaUnicode;
                        return;
                    // Escaped line breaks are whitespace to base64; "\/" is how some encoders write '/'.
                    case (byte)'n' or (byte)'r' or (byte)'t':
                        return;
                    default:
                        MediaByte(c == (byte)'/' ? c : (byte)'*');
                        return;
                }
            case State.InMediaUnicode:
                var digit = c switch
                {
                    >= (byte)'0' and <= (byte)'9' => c - '0',
                    >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                    >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                    _ => -1,
                };
                Expect(digit >= 0);
                _unicodeValue = _unicodeValue * 16 + digit;
                if (++_unicodeDigits == 4)
                {
                    MediaByte(_unicodeValue < 128 ? (byte)_unicodeValue : (byte)'*');
                    _state = State.InMedia;
                }
                return;
        }
    }

    /// <summary>The body is over; answers the rewritten object (without the media values).</summary>
    public ReadOnlyMemory<byte> Finish()
    {
        Expect(_state == State.End);
        Write((byte)'}');
        return _structure.WrittenMemory;
    }

    private void MediaByte(byte c)
    {
        _one[0] = c;
        _media!.Append(_one);
    }

    private void AppendName(byte c)
    {
        if (_nameLength >= _name.Length)
            throw new JsonException("An argument name is longer than " + MaxNameBytes + " bytes.");
        _name[_nameLength++] = c;
    }

    /// <summary>The argument name, or null when it is not valid text (then it matches no argument).</summary>
    private string? DecodeName()
    {
        var reader = new Utf8JsonReader(_name.AsSpan(0, _nameLength));
        try
        {
            return reader.Read() ? reader.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private void Write(byte c)
    {
        _one[0] = c;
        Write(_one);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        if (_structure.WrittenCount + bytes.Length + 1 > budget)
            throw new BodyTooLargeException(budget, budgetSetting);
        _structure.Write(bytes);
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private static void Expect(bool condition)
    {
        if (!condition)
            throw new JsonException("The body is not a JSON object of named arguments.");
    }
}
