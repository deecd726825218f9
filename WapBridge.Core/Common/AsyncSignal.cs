namespace WapBridge.Core.Common;

/// <summary>A wake-up call for a polling loop: many wakes before the next wait collapse into one.</summary>
public class AsyncSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    // 1 while a wake is waiting to be taken: the outbox is woken once per accepted message, and only the
    // first wake since the last wait needs to release (a release on a full semaphore throws).
    private int _woken;

    public void Wake()
    {
        if (Interlocked.Exchange(ref _woken, 1) == 0)
            _signal.Release();
    }

    /// <summary>Returns when woken or after <paramref name="timeout"/>; throws only when <paramref name="ct"/> is cancelled.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var timeoutCts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        try
        {
            await _signal.WaitAsync(linked.Token);
            Volatile.Write(ref _woken, 0);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }
}
