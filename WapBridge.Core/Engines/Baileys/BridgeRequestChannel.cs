using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// The host → bridge half of the protocol on one process's stdin: lines written one at a time, and requests
/// correlated with their responses (PROTOCOL.md, <c>request</c>/<c>response</c>).
/// </summary>
internal sealed class BridgeRequestChannel
{
    private readonly StreamWriter _input;
    private readonly TimeSpan _requestTimeout;
    private readonly Func<bool> _isAlive;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private long _nextId;

    public BridgeRequestChannel(StreamWriter input, TimeSpan requestTimeout, Func<bool> isAlive)
    {
        _input = input;
        _requestTimeout = requestTimeout;
        _isAlive = isAlive;
    }

    /// <summary>Sends a request and waits for its response; throws <see cref="BridgeException"/> on <c>ok:false</c>, timeout or exit.</summary>
    public async Task<JsonElement> RequestAsync(string method, JsonObject parameters, CancellationToken ct = default, TimeSpan? timeout = null)
    {
        if (!_isAlive())
            throw new BridgeException("bridge_exited", "the WhatsApp bridge process is not running");
        var id = "r" + Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            await WriteAsync(new JsonObject { ["type"] = "request", ["id"] = id, ["method"] = method, ["params"] = parameters }, ct);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout ?? _requestTimeout);
            try
            {
                var response = await answer.Task.WaitAsync(limit.Token);
                if (response.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
                    return response.TryGetProperty("result", out var result) ? result : default;
                var error = response.TryGetProperty("error", out var e) ? e : default;
                throw new BridgeException(BridgeProcess.Str(error, "code") ?? "internal", BridgeProcess.Str(error, "message") ?? $"the bridge refused {method}")
                {
                    StatusCode = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("statusCode", out var sc) && sc.ValueKind == JsonValueKind.Number
                        && sc.TryGetInt32(out var statusCode) ? statusCode : null,
                    Error = error.ValueKind == JsonValueKind.Undefined ? default : error.Clone(),
                };
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new BridgeException("timeout", $"the WhatsApp bridge did not answer {method} within {(timeout ?? _requestTimeout).TotalSeconds:0} s");
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Hands a <c>response</c> line to the request waiting for it; false when none waits (any more).</summary>
    public bool Complete(string id, JsonElement response) => _pending.TryGetValue(id, out var waiter) && waiter.TrySetResult(response);

    /// <summary>Fails every request still waiting (the process exited).</summary>
    public void FailAll(Exception error)
    {
        foreach (var (_, waiter) in _pending)
            waiter.TrySetException(error);
    }

    /// <summary>Writes an answer to the bridge (an <c>auth_result</c>); a bridge gone meanwhile needs none.</summary>
    public async Task AnswerAsync(JsonObject answer)
    {
        try
        {
            await WriteAsync(answer, CancellationToken.None);
        }
        catch (BridgeException)
        {
        }
    }

    private async Task WriteAsync(JsonObject message, CancellationToken ct)
    {
        var line = message.ToJsonString();
        await _writeGate.WaitAsync(ct);
        try
        {
            await _input.WriteAsync(line.AsMemory(), ct);
            await _input.WriteAsync("\n".AsMemory(), ct);
            await _input.FlushAsync(ct);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw new BridgeException("bridge_exited", $"the WhatsApp bridge process is not running ({e.Message})");
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Closes stdin after the write in progress, if any: the bridge ends its sockets and exits.</summary>
    public async Task CloseInputAsync()
    {
        try
        {
            await _writeGate.WaitAsync(TimeSpan.FromSeconds(2));
            _input.Close();
        }
        catch (Exception)
        {
        }
    }
}
