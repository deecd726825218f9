using System.Net;

namespace WapBridge.Core.Webhooks;

/// <summary>What one attempt came to; <c>Posted</c> is false when the endpoint was gone or disabled and nothing was sent.</summary>
internal sealed record AttemptOutcome(AttemptResult Attempt, TimeSpan? RetryAfter, DateTimeOffset At, bool Posted)
{
    /// <summary>
    /// Moves a delivery on after this attempt: delivered, due again on the retry schedule (or when the receiver asked),
    /// or dead once the schedule is spent, the endpoint is gone or the receiver answered 410.
    /// </summary>
    public void ApplyTo(WebhookDelivery delivery, IReadOnlyList<TimeSpan> retrySchedule)
    {
        if (!Posted)
        {
            delivery.State = DeliveryState.Dead;
            delivery.LastError = Attempt.Error;
            return;
        }
        delivery.Attempts++;
        delivery.LastStatusCode = Attempt.StatusCode;
        delivery.LastResponse = Attempt.Response;
        delivery.LastError = Attempt.Error;
        if (Attempt.Delivered)
        {
            delivery.State = DeliveryState.Delivered;
            delivery.DeliveredAt = At;
        }
        else if (!IsGone && NextDelay(delivery.Attempts, RetryAfter, retrySchedule) is { } delay)
            delivery.NextAttemptAt = At + delay;
        else
            delivery.State = DeliveryState.Dead;
    }

    /// <summary>The receiver answered 410 Gone: its endpoint is disabled until its settings are saved again.</summary>
    public bool IsGone => Posted && Attempt.StatusCode == (int)HttpStatusCode.Gone;

    /// <summary>The wait before the next attempt, or null when the schedule is spent.</summary>
    internal static TimeSpan? NextDelay(int attemptsMade, TimeSpan? retryAfter, IReadOnlyList<TimeSpan> schedule)
    {
        if (attemptsMade > schedule.Count)
            return null;
        if (retryAfter is { } asked)
            return asked < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : asked > TimeSpan.FromHours(24) ? TimeSpan.FromHours(24) : asked;
        // ±20 % jitter, so deliveries that failed together do not all retry together.
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return schedule[attemptsMade - 1] * jitter;
    }
}
