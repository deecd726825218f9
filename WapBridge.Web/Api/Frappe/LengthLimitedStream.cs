using Microsoft.Extensions.Options;

namespace WapBridge.Web.Api.Frappe;

/// <summary>
/// Enforces the API body limit while reading, whatever the server: chunked bodies carry no
/// Content-Length to check up front, and not every server honours IHttpMaxRequestBodySizeFeature.
/// Once a body grows large it also waits for a turn at the <see cref="LargeBodyGate"/>, which it holds until disposed.
/// </summary>
internal sealed class LengthLimitedStream(Stream inner, long limit, string setting, LargeBodyGate gate) : Stream
{
    private long _read;
    private bool _holdsTurn;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Count(read);
        if (!_holdsTurn && _read > gate.Threshold)
            _holdsTurn = gate.WaitTurn();
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var read = await inner.ReadAsync(buffer, ct);
        Count(read);
        if (!_holdsTurn && _read > gate.Threshold)
            _holdsTurn = await gate.WaitTurnAsync(ct);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    private void Count(int read)
    {
        _read += read;
        if (_read > limit)
            throw new BodyTooLargeException(limit, setting);
    }

    protected override void Dispose(bool disposing)
    {
        if (_holdsTurn)
            gate.Leave();
        _holdsTurn = false;
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

internal sealed class BodyTooLargeException(long limit, string setting) : Exception($"Request body over {limit} bytes")
{
    public long Limit { get; } = limit;

    /// <summary>The setting that sets <see cref="Limit"/>, for the answer.</summary>
    public string Setting { get; } = setting;
}

/// <summary>A large body waited longer than <see cref="ApiOptions.LargeBodyWait"/> for a turn.</summary>
internal sealed class ServerBusyException(TimeSpan retryAfter) : Exception("Too many large request bodies at once")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Bounds how many large request bodies are read at once (<see cref="ApiOptions.MaxConcurrentLargeBodies"/>): each
/// costs buffers and disk writes, and a burst of them must not take the memory every other request needs.
/// </summary>
public sealed class LargeBodyGate(IOptions<ApiOptions> options)
{
    private readonly SemaphoreSlim _turns = new(Math.Max(1, options.Value.MaxConcurrentLargeBodies));

    public long Threshold { get; } = options.Value.LargeBodyBytes;

    /// <summary>True once a turn is taken; a body that waited too long is refused with <see cref="ServerBusyException"/>.</summary>
    internal async ValueTask<bool> WaitTurnAsync(CancellationToken ct)
    {
        var wait = options.Value.LargeBodyWait;
        if (!await _turns.WaitAsync(wait, ct))
            throw new ServerBusyException(wait);
        return true;
    }

    internal bool WaitTurn() => _turns.Wait(options.Value.LargeBodyWait) ? true : throw new ServerBusyException(options.Value.LargeBodyWait);

    internal void Leave() => _turns.Release();
}
