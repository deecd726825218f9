using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// One <c>baileys-bridge</c> child process speaking the NDJSON protocol (baileys-bridge/PROTOCOL.md) over stdin/stdout:
/// it waits for <c>ready</c>, correlates requests with responses, routes events and auth calls to the
/// sessions it serves, and forwards the bridge's stderr to the logger.
/// </summary>
internal sealed class BridgeProcess : IAsyncDisposable
{
    /// <summary>The protocol version this host speaks (baileys-bridge/PROTOCOL.md); a bridge reporting another one is refused.</summary>
    public const int ProtocolVersion = 2;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _requestTimeout;
    private readonly int _maxLineBytes;
    private readonly BridgeRequestChannel _requests;
    private readonly ConcurrentDictionary<string, IBridgeSessionHandler> _sessions = new();
    private readonly TaskCompletionSource<JsonElement> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _disposing;
    private volatile BridgeStats? _lastStats;

    public int Number { get; }
    public DateTimeOffset StartedAt { get; }
    public int ProcessId { get; }

    /// <summary>Completes with the exit code when the process ended, whoever ended it.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>True while the process runs and is not being stopped.</summary>
    public bool IsAlive => !_exited.Task.IsCompleted && !_disposing;

    /// <summary>True when the process ended without being asked to (a crash).</summary>
    public bool Crashed { get; private set; }

    public int SessionCount => _sessions.Count;
    public IReadOnlyCollection<string> SessionIds => _sessions.Keys.ToList();

    /// <summary>The bridge's last <c>stats</c> event (memory, event-loop lag); null until the first one.</summary>
    public BridgeStats? LastStats => _lastStats;

    /// <summary>The bridge's <c>ready</c> line (protocol, versions).</summary>
    public JsonElement? ReadyInfo => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : null;

    private BridgeProcess(Process process, int number, ILogger logger, TimeSpan requestTimeout, TimeProvider time, int maxLineBytes)
    {
        _process = process;
        _logger = logger;
        _time = time;
        _requestTimeout = requestTimeout;
        _maxLineBytes = maxLineBytes;
        Number = number;
        StartedAt = time.GetUtcNow();
        ProcessId = process.Id;
        _requests = new BridgeRequestChannel(process.StandardInput, requestTimeout, () => IsAlive);
    }

    /// <summary>Starts the bridge and waits for its <c>ready</c> line; kills it when it does not come in time.</summary>
    public static async Task<BridgeProcess> StartAsync(BridgeCommand command, int number, ILogger logger, TimeSpan startupTimeout,
        TimeSpan requestTimeout, TimeProvider time, CancellationToken ct, int maxLineBytes = 4 * 1024 * 1024)
    {
        var info = new ProcessStartInfo(command.FileName)
        {
            WorkingDirectory = command.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = Utf8,
            StandardOutputEncoding = Utf8,
            StandardErrorEncoding = Utf8,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in command.Arguments)
            info.ArgumentList.Add(argument);
        foreach (var (name, value) in command.Environment)
            info.Environment[name] = value;

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new BridgeException("start_failed", $"could not start {command.FileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BridgeException("start_failed", $"could not start the WhatsApp bridge ({command.FileName}): {e.Message}");
        }

        var bridge = new BridgeProcess(process, number, logger, requestTimeout, time, maxLineBytes);
        bridge.Run();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(startupTimeout);
        try
        {
            var ready = await bridge._ready.Task.WaitAsync(timeout.Token);
            var protocol = Str(ready, "protocol");
            if (protocol != ProtocolVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                // Caught below: the bridge is stopped and the mismatch reported as it is, since no restart can fix it.
                throw new BridgeException(ProtocolMismatch,
                    $"the WhatsApp bridge speaks protocol {protocol ?? "(none)"}, this WapBridge needs {ProtocolVersion}: reinstall baileys-bridge from this release");
            }
            logger.LogInformation("Baileys bridge #{Number} (pid {Pid}) is ready: protocol {Protocol}, bridge {BridgeVersion}, Baileys {BaileysVersion}",
                number, bridge.ProcessId, Str(ready, "protocol"), Str(ready, "bridgeVersion"), Str(ready, "baileysVersion"));
            return bridge;
        }
        catch (Exception e)
        {
            // Decided before the cleanup: stopping the bridge makes it exit, which is not why it failed.
            var exited = bridge._exited.Task.IsCompleted;
            await bridge.DisposeAsync();
            if (ct.IsCancellationRequested || e is BridgeException { Code: ProtocolMismatch }) throw;
            if (exited)
                throw new BridgeException("start_failed", $"the WhatsApp bridge exited with code {bridge._exited.Task.Result} before it was ready (see the logs)");
            if (e is BridgeException) throw;
            throw new BridgeException("start_timeout", $"the WhatsApp bridge did not report ready within {startupTimeout.TotalSeconds:0} s");
        }
    }

    private void Run()
    {
        _ = Task.Run(ReadStdoutAsync);
        _ = Task.Run(new BridgeStderrLog(_process.StandardError.BaseStream, Number, _maxLineBytes, _logger).ForwardAsync);
    }

    public IBridgeSessionHandler? HandlerOf(string sessionId) => _sessions.GetValueOrDefault(sessionId);

    public void Attach(string sessionId, IBridgeSessionHandler handler) => _sessions[sessionId] = handler;

    public void Detach(string sessionId, IBridgeSessionHandler handler) =>
        _sessions.TryRemove(new KeyValuePair<string, IBridgeSessionHandler>(sessionId, handler));

    /// <summary>Sends a request and waits for its response; throws <see cref="BridgeException"/> on <c>ok:false</c>, timeout or exit.</summary>
    public Task<JsonElement> RequestAsync(string method, JsonObject parameters, CancellationToken ct = default, TimeSpan? timeout = null) =>
        _requests.RequestAsync(method, parameters, ct, timeout);

    /// <summary>The code of the refusal of a bridge that speaks another protocol version.</summary>
    public const string ProtocolMismatch = "protocol_mismatch";

    private async Task ReadStdoutAsync()
    {
        try
        {
            var reader = new ProtocolLineReader(_process.StandardOutput.BaseStream, _maxLineBytes);
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.TooLong)
                {
                    RefuseLine(line);
                    continue;
                }
                if (line.Bytes.AsSpan().Trim((byte)' ').IsEmpty)
                    continue;
                JsonElement message;
                try
                {
                    message = JsonSerializer.Deserialize<JsonElement>(line.Bytes);
                }
                catch (JsonException)
                {
                    _logger.LogWarning("Baileys bridge #{Number} wrote a line that is not JSON: {Line}", Number, Truncate(Utf8.GetString(line.Bytes)));
                    continue;
                }
                Dispatch(message);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        await OnExitedAsync();
    }

    /// <summary>
    /// A line over the limit, already skipped: the request it answers fails with <c>line_too_long</c> and the auth call it
    /// makes is refused with it, when its start names them; anything else is only logged.
    /// </summary>
    private void RefuseLine(ProtocolLine line)
    {
        var (type, id, session) = ProtocolLineReader.ReadHead(line.Bytes);
        _logger.LogError("Baileys bridge #{Number} wrote a {Type} line of {Session} over {MaxLineBytes} bytes (id {Id}); skipped it",
            Number, type ?? "(unknown)", session ?? "-", _maxLineBytes, id ?? "-");
        var message = $"the WhatsApp bridge's answer exceeds {_maxLineBytes} bytes ({BaileysOptions.Section}:MaxLineBytes)";
        if (type == "response" && id is not null)
        {
            _requests.Complete(id, JsonSerializer.SerializeToElement(new JsonObject
            {
                ["type"] = "response", ["id"] = id, ["ok"] = false,
                ["error"] = new JsonObject { ["code"] = "line_too_long", ["message"] = message },
            }));
        }
        else if (type == "auth" && id is not null)
        {
            _ = _requests.AnswerAsync(new JsonObject
            {
                ["type"] = "auth_result", ["id"] = id, ["ok"] = false,
                ["error"] = new JsonObject { ["code"] = "line_too_long", ["message"] = message },
            });
        }
    }

    private void Dispatch(JsonElement message)
    {
        switch (Str(message, "type"))
        {
            case "ready":
                _ready.TrySetResult(message);
                break;
            case "response":
                if (Str(message, "id") is { } responseId)
                    _requests.Complete(responseId, message);
                break;
            case "event" when Str(message, "session") is null && Str(message, "event") == "stats":
                OnStats(message.TryGetProperty("data", out var stats) ? stats : default);
                break;
            case "event":
                if (Str(message, "session") is { } session && Str(message, "event") is { } eventName)
                {
                    if (_sessions.TryGetValue(session, out var handler))
                    {
                        var data = message.TryGetProperty("data", out var d) ? d : default;
                        try
                        {
                            handler.OnBridgeEvent(eventName, data);
                        }
                        catch (Exception e)
                        {
                            _logger.LogError(e, "Baileys event {Event} of {Session} failed in the host", eventName, session);
                        }
                    }
                    else
                    {
                        _logger.LogDebug("Baileys bridge #{Number} reported {Event} for {Session}, which it no longer serves", Number, eventName, session);
                    }
                }
                break;
            case "auth":
                _ = AnswerAuthAsync(message);
                break;
        }
    }

    private void OnStats(JsonElement data)
    {
        if (BridgeStats.Read(data, _time.GetUtcNow()) is { } stats)
            _lastStats = stats;
        else
            _logger.LogWarning("Baileys bridge #{Number} sent stats without rss and heapUsed: {Data}", Number, Truncate(data.GetRawText()));
    }

    // Answered off the reader loop: the store may touch the database, and responses must keep flowing meanwhile.
    private async Task AnswerAuthAsync(JsonElement call)
    {
        var id = Str(call, "id");
        var session = Str(call, "session");
        var op = Str(call, "op");
        if (id is null)
            return;
        JsonObject answer;
        try
        {
            if (session is null || op is null || !_sessions.TryGetValue(session, out var handler))
                throw new BridgeException("unknown_session", $"the host has no open session {session}");
            var parameters = call.TryGetProperty("params", out var p) ? p : default;
            var result = await handler.OnAuthCallAsync(op, parameters, _stopping.Token);
            answer = new JsonObject { ["type"] = "auth_result", ["id"] = id, ["ok"] = true, ["result"] = result };
        }
        catch (Exception e)
        {
            if (e is not BridgeException)
                _logger.LogError(e, "Auth call {Op} of {Session} failed", op, session);
            var code = e is BridgeException be ? be.Code : "internal";
            answer = new JsonObject
            {
                ["type"] = "auth_result", ["id"] = id, ["ok"] = false,
                ["error"] = new JsonObject { ["code"] = code, ["message"] = e.Message },
            };
        }
        await _requests.AnswerAsync(answer);
    }

    private async Task OnExitedAsync()
    {
        int code;
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
            code = _process.ExitCode;
        }
        catch (Exception)
        {
            code = -1;
        }
        Crashed = !_disposing;
        _requests.FailAll(new BridgeException("bridge_exited", $"the WhatsApp bridge process exited (code {code})"));
        _ready.TrySetException(new BridgeException("start_failed", $"the WhatsApp bridge exited with code {code} before it was ready"));
        if (Crashed)
            _logger.LogWarning("Baileys bridge #{Number} (pid {Pid}) exited with code {Code} serving {Sessions} sessions", Number, ProcessId, code, _sessions.Count);
        _exited.TrySetResult(code);
    }

    /// <summary>Closes stdin (the bridge ends its sockets without logging out and exits), then kills it if it lingers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing)
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
            return;
        }
        _disposing = true;
        await _stopping.CancelAsync();
        await _requests.CloseInputAsync();
        try
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Baileys bridge #{Number} (pid {Pid}) did not exit after stdin closed; killing it", Number, ProcessId);
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        }
        _process.Dispose();
    }

    /// <summary>Kills the process at once, as a crash would (for tests of the supervisor).</summary>
    internal void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    internal static string? Str(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    internal static string Truncate(string text, int max = 500) => text.Length <= max ? text : text[..max] + "…";
}

/// <summary>
/// A bridge process's report on itself (the <c>stats</c> event of baileys-bridge/PROTOCOL.md): memory when it was sent,
/// the 99th percentile of its event-loop lag over the period before (null when the period had no sample), and when
/// the host received it.
/// </summary>
internal sealed record BridgeStats(long RssBytes, long HeapUsedBytes, TimeSpan? EventLoopLag, DateTimeOffset MeasuredAt)
{
    public static BridgeStats? Read(JsonElement data, DateTimeOffset receivedAt)
    {
        if (data.ValueKind != JsonValueKind.Object || Bytes(data, "rss") is not { } rssBytes || Bytes(data, "heapUsed") is not { } heapBytes)
            return null;
        // A lag beyond a day is no measurement (and would overflow TimeSpan far beyond that).
        TimeSpan? lag = data.TryGetProperty("eventLoopLagMs", out var l) && l.ValueKind == JsonValueKind.Number
            && l.TryGetDouble(out var ms) && ms < TimeSpan.FromDays(1).TotalMilliseconds
            ? TimeSpan.FromMilliseconds(Math.Max(0, ms))
            : null;
        return new BridgeStats(rssBytes, heapBytes, lag, receivedAt);
    }

    // TryGetInt64 throws on a non-number, which the reader loop would take for the end of the process.
    private static long? Bytes(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var bytes) ? bytes : null;
}

/// <summary>How to start a bridge process.</summary>
internal sealed record BridgeCommand(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment);
