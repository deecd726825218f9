using Microsoft.Extensions.Logging;
using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>
/// Runs the reconnect attempts <see cref="ReconnectPolicy"/> decides on: one pending attempt per session, started at its
/// time or at once on "Retry now", abandoned when the session closes, connects or gives up.
/// </summary>
public sealed class ReconnectScheduler(TimeProvider time, ILogger<ReconnectScheduler> logger)
{
    /// <summary>
    /// Replaces the session's pending attempt with one in <paramref name="wait"/>. A failed attempt is reported to
    /// <paramref name="reportFailure"/> as the transient disconnect it is (which schedules the next one).
    /// </summary>
    internal void Schedule(LiveSession live, TimeSpan wait, Func<EngineEvent, Task> reportFailure)
    {
        var retry = new PendingRetry(CancellationTokenSource.CreateLinkedTokenSource(live.Closed.Token, live.Leaving));
        // One pending attempt per session: a later close replaces the earlier schedule.
        Interlocked.Exchange(ref live.Retry, retry)?.Abandon();
        _ = ReconnectAsync(live, retry, wait, reportFailure);
    }

    // Taken off the session too, so a later "Retry now" reopens instead of waking an attempt that will never run.
    internal static void Abandon(LiveSession live) => Interlocked.Exchange(ref live.Retry, null)?.Abandon();

    /// <summary>Starts the session's pending attempt now; false when none is pending.</summary>
    internal bool RetryNow(LiveSession live)
    {
        if (live.Retry is not { } retry)
            return false;
        logger.LogInformation("Reconnect attempt {Attempt} of instance {Instance} starts now, on request", live.ReconnectAttempts, live.Code);
        return retry.Now.TrySetResult();
    }

    private async Task ReconnectAsync(LiveSession live, PendingRetry retry, TimeSpan wait, Func<EngineEvent, Task> reportFailure)
    {
        try
        {
            using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(retry.Token))
            {
                await Task.WhenAny(Task.Delay(ReconnectPolicy.TimerWait(wait), time, waiting.Token), retry.Now.Task);
                await waiting.CancelAsync();
            }
            retry.Token.ThrowIfCancellationRequested();
            Interlocked.CompareExchange(ref live.Retry, null, retry);
            logger.LogInformation("Reconnecting instance {Instance} (attempt {Attempt})", live.Code, live.ReconnectAttempts);
            await live.Session!.ConnectAsync(retry.Token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Reconnect of instance {Instance} failed", live.Code);
            await reportFailure(new DisconnectedEvent(live.Code, time.GetUtcNow(), "reconnect failed: " + e.Message, Transient: true));
        }
    }
}

/// <summary>A scheduled reconnect attempt: it starts at its time, at once on <see cref="Now"/>, or never once abandoned.</summary>
internal sealed class PendingRetry(CancellationTokenSource abandon)
{
    public CancellationToken Token { get; } = abandon.Token;
    public TaskCompletionSource Now { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Abandon() => abandon.Cancel();
}
