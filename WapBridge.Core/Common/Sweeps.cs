using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Common;

/// <summary>The loop of a background sweep: run, wait the interval, again until the host stops; a failed run is logged and retried after 5 s.</summary>
public static class Sweeps
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(Func<CancellationToken, Task> sweep, Func<TimeSpan> interval, TimeProvider time,
        ILogger logger, LogLevel failureLevel, string failureMessage, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await sweep(stoppingToken);
                await Task.Delay(interval(), time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
#pragma warning disable CA2254 // the message is a constant chosen by the caller
                logger.Log(failureLevel, e, failureMessage);
#pragma warning restore CA2254
                await Task.Delay(RetryAfterFailure, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
