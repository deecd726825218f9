using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// The pool of bridge processes: gives each session a process (up to <see cref="BaileysOptions.SessionsPerProcess"/>
/// each), and when a process dies, tells its sessions (a transient disconnect), starts a new one after a backoff
/// that grows while it keeps crashing, and reopens the sessions on it.
/// </summary>
internal sealed class BaileysSupervisor(IOptions<BaileysOptions> options, BaileysRuntime runtime, TimeProvider time, ILoggerFactory loggers)
    : IBridgeProcesses, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<BaileysSupervisor>();
    private readonly ILogger _bridgeLogger = loggers.CreateLogger("WapBridge.Baileys.Bridge");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<BridgeProcess> _processes = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _nextNumber;
    private int _quickCrashes;
    private long _restarts;
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;

    private BaileysOptions Options => options.Value;

    public BridgeMediaFolder MediaFolder => runtime.MediaFolder;

    /// <summary>The running processes, for tests and diagnostics.</summary>
    public IReadOnlyList<BridgeProcess> Processes
    {
        get { lock (_processes) return _processes.ToList(); }
    }

    public long Restarts => Interlocked.Read(ref _restarts);

    public IReadOnlyList<BridgeProcessSnapshot> Current() =>
        Processes.Where(p => p.IsAlive).Select(Snapshot).ToList();

    private static BridgeProcessSnapshot Snapshot(BridgeProcess process)
    {
        var stats = process.LastStats;
        return new BridgeProcessSnapshot(process.Number, process.ProcessId, process.StartedAt, process.SessionCount,
            stats?.RssBytes, stats?.HeapUsedBytes, stats?.EventLoopLag, stats?.MeasuredAt);
    }

    /// <summary>
    /// A live process for <paramref name="session"/>: the one it is on, else the least busy one with room, else a new one.
    /// After a crash this waits out the restart backoff.
    /// </summary>
    public async Task<BridgeProcess> AcquireAsync(BaileysSession session, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        await _gate.WaitAsync(ct);
        try
        {
            lock (_processes)
            {
                var current = _processes.FirstOrDefault(p => p.IsAlive && p.SessionIds.Contains(session.InstanceId));
                if (current is not null)
                    return current;
                var roomy = _processes.Where(p => p.IsAlive && p.SessionCount < Math.Max(1, Options.SessionsPerProcess))
                    .OrderBy(p => p.SessionCount).FirstOrDefault();
                if (roomy is not null)
                {
                    roomy.Attach(session.InstanceId, session);
                    return roomy;
                }
            }

            var wait = _notBefore - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
                await Task.Delay(wait, time, linked.Token);
            }

            var command = runtime.Command();
            var number = Interlocked.Increment(ref _nextNumber);
            BridgeProcess process;
            try
            {
                process = await BridgeProcess.StartAsync(command, number, _bridgeLogger, Options.StartupTimeout, Options.RequestTimeout, time, ct,
                    Options.MaxLineBytes);
            }
            catch (BridgeException)
            {
                // A bridge that cannot start is a crash too: the next attempt waits longer.
                NoteCrash(quick: true);
                throw;
            }
            process.Attach(session.InstanceId, session);
            lock (_processes) _processes.Add(process);
            _ = WatchAsync(process);
            return process;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The session no longer needs a process; a process left without sessions is stopped.</summary>
    public async Task ReleaseAsync(BaileysSession session, BridgeProcess process)
    {
        process.Detach(session.InstanceId, session);
        if (process.SessionCount > 0)
            return;
        lock (_processes)
        {
            if (process.SessionCount > 0) return;
            _processes.Remove(process);
        }
        await process.DisposeAsync();
    }

    private async Task WatchAsync(BridgeProcess process)
    {
        await process.Exited;
        lock (_processes) _processes.Remove(process);
        if (!process.Crashed || _stopping.IsCancellationRequested)
            return;

        Interlocked.Increment(ref _restarts);
        var ranFor = time.GetUtcNow() - process.StartedAt;
        var delay = NoteCrash(quick: ranFor < Options.HealthyRunTime);
        var sessions = process.SessionIds;
        _logger.LogWarning("Baileys bridge #{Number} died after {RanFor}; restarting in {Delay} and reopening {Count} sessions",
            process.Number, ranFor, delay, sessions.Count);

        var handlers = sessions.Select(id => process.HandlerOf(id)).OfType<BaileysSession>().ToList();
        foreach (var session in handlers)
            session.OnBridgeLost(process, $"the WhatsApp bridge process stopped unexpectedly (exit code {process.Exited.Result}); restarting it");

        foreach (var session in handlers)
        {
            if (_stopping.IsCancellationRequested)
                return;
            // Sequential: the first reopen starts the new process (after the backoff), the others join it.
            await session.ReopenAfterBridgeLossAsync(_stopping.Token);
        }
    }

    /// <summary>Records a crash and answers how long the next start waits.</summary>
    private TimeSpan NoteCrash(bool quick)
    {
        _quickCrashes = quick ? _quickCrashes + 1 : 1;
        var factor = Math.Pow(2, Math.Min(_quickCrashes - 1, 16));
        var delay = TimeSpan.FromMilliseconds(Math.Min(Options.RestartDelay.TotalMilliseconds * factor, Options.MaxRestartDelay.TotalMilliseconds));
        _notBefore = time.GetUtcNow() + delay;
        return delay;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
            return;
        await _stopping.CancelAsync();
        List<BridgeProcess> processes;
        lock (_processes)
        {
            processes = _processes.ToList();
            _processes.Clear();
        }
        await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
    }
}
