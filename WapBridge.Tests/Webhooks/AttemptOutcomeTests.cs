using WapBridge.Core.Webhooks;

namespace WapBridge.Tests.Webhooks;

[Trait("Category", "Unit")]
public class AttemptOutcomeTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan[] Schedule = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10)];

    private static WebhookDelivery Delivery(int attempts = 0) => new()
    {
        CustomerId = 1, EndpointId = 1, EventId = "evt", EventType = "message", Payload = "{}", Attempts = attempts, NextAttemptAt = At, CreatedAt = At,
    };

    [Fact]
    public void A_2xx_delivers_and_counts_the_attempt()
    {
        var delivery = Delivery();
        new AttemptOutcome(new AttemptResult(true, 204, null, null), null, At, Posted: true).ApplyTo(delivery, Schedule);
        Assert.Equal((DeliveryState.Delivered, 1, (DateTimeOffset?)At), (delivery.State, delivery.Attempts, delivery.DeliveredAt));
    }

    [Fact]
    public void A_failure_is_due_again_on_the_schedule_with_jitter_then_dead_when_spent()
    {
        var delivery = Delivery();
        var failed = new AttemptOutcome(new AttemptResult(false, 500, "oops", "HTTP 500"), null, At, Posted: true);
        failed.ApplyTo(delivery, Schedule);
        Assert.Equal(DeliveryState.Pending, delivery.State);
        Assert.InRange(delivery.NextAttemptAt - At, TimeSpan.FromSeconds(48), TimeSpan.FromSeconds(72));
        failed.ApplyTo(delivery, Schedule);
        Assert.InRange(delivery.NextAttemptAt - At, TimeSpan.FromMinutes(8), TimeSpan.FromMinutes(12));
        failed.ApplyTo(delivery, Schedule);
        Assert.Equal((DeliveryState.Dead, 3, "HTTP 500"), (delivery.State, delivery.Attempts, delivery.LastError));
    }

    [Fact]
    public void Retry_after_is_honoured_within_one_second_and_one_day()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), AttemptOutcome.NextDelay(1, TimeSpan.Zero, Schedule));
        Assert.Equal(TimeSpan.FromHours(24), AttemptOutcome.NextDelay(1, TimeSpan.FromDays(3), Schedule));
        Assert.Equal(TimeSpan.FromSeconds(90), AttemptOutcome.NextDelay(2, TimeSpan.FromSeconds(90), Schedule));
        Assert.Null(AttemptOutcome.NextDelay(3, TimeSpan.FromSeconds(90), Schedule));
    }

    [Fact]
    public void Gone_kills_the_delivery_at_once_and_a_removed_endpoint_does_not_count_an_attempt()
    {
        var gone = Delivery();
        var outcome = new AttemptOutcome(new AttemptResult(false, 410, null, "HTTP 410"), null, At, Posted: true);
        outcome.ApplyTo(gone, Schedule);
        Assert.True(outcome.IsGone);
        Assert.Equal((DeliveryState.Dead, 1), (gone.State, gone.Attempts));

        var orphan = Delivery();
        new AttemptOutcome(new AttemptResult(false, null, null, "The webhook endpoint was removed."), null, At, Posted: false).ApplyTo(orphan, Schedule);
        Assert.Equal((DeliveryState.Dead, 0, "The webhook endpoint was removed."), (orphan.State, orphan.Attempts, orphan.LastError));
    }
}
