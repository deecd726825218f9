using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Live;

/// <summary>
/// One subscriber's mailbox: notices are merged (the same notice twice is one), handed over at most once per
/// interval and never while the previous hand-over still runs, and bounded: past <see cref="MaxPending"/> distinct
/// notices a topic's are merged into one "anything of this topic". A burst of receipts thus costs a subscriber a
/// re-read or two per second, a slow one holds a few notices at most, and producers only ever add to a set.
/// </summary>
public sealed class LiveSubscription : IDisposable
{
    public const int MaxPending = 64;

    private readonly Func<IReadOnlyCollection<LiveChange>, Task> _handler;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly Action<LiveSubscription>? _onDispose;
    private readonly Lock _gate = new();
    private HashSet<LiveChange> _pending = [];
    private bool _scheduled;
    private bool _disposed;
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private ITimer? _timer;

    internal LiveSubscription(LiveInterest interest, Func<IReadOnlyCollection<LiveChange>, Task> handler, TimeProvider time, TimeSpan interval,
        ILogger logger, Action<LiveSubscription>? onDispose)
    {
        Interest = interest;
        _handler = handler;
        _time = time;
        _interval = interval;
        _logger = logger;
        _onDispose = onDispose;
    }

    public LiveInterest Interest { get; }

    /// <summary>Notices waiting for the next hand-over (for tests of the bound).</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
                return _pending.Count;
        }
    }

    internal void Offer(LiveChange change)
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            if (_pending.Count >= MaxPending && !_pending.Contains(change))
            {
                _pending.RemoveWhere(c => c.Topic == change.Topic);
                _pending.Add(new LiveChange(change.Topic, Interest.CustomerId, null));
            }
            else
            {
                _pending.Add(change);
            }
            if (_scheduled)
                return;
            _scheduled = true;
            ScheduleLocked();
        }
    }

    private void ScheduleLocked()
    {
        var wait = _last == DateTimeOffset.MinValue ? TimeSpan.Zero : _last + _interval - _time.GetUtcNow();
        _timer?.Dispose();
        _timer = null;
        // Through the pool: the producer that offered the notice never runs the subscriber's handler.
        if (wait <= TimeSpan.Zero)
            _ = Task.Run(DeliverAsync);
        else
            _timer = _time.CreateTimer(_ => Task.Run(DeliverAsync), null, wait, Timeout.InfiniteTimeSpan);
    }

    private async Task DeliverAsync()
    {
        HashSet<LiveChange> batch;
        lock (_gate)
        {
            if (_disposed || _pending.Count == 0)
            {
                _scheduled = false;
                return;
            }
            batch = _pending;
            _pending = [];
            _last = _time.GetUtcNow();
        }
        try
        {
            await _handler(batch);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "A live change subscriber failed on {Count} notices", batch.Count);
        }
        lock (_gate)
        {
            if (_disposed || _pending.Count == 0)
                _scheduled = false;
            else
                ScheduleLocked();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _pending.Clear();
            _timer?.Dispose();
        }
        _onDispose?.Invoke(this);
    }
}
