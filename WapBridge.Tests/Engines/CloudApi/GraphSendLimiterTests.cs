using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Engines.CloudApi;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>Meta's throughput per number: turns are counted, not timed, on a fake clock.</summary>
[Trait("Category", "Unit")]
public sealed class GraphSendLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));

    private GraphSendLimiter Limiter(int perSecond) => new(Options.Create(new CloudApiOptions { MessagesPerSecond = perSecond }), _time);

    [Fact]
    public void A_number_gets_its_rate_of_turns_in_a_second_and_the_next_waits_for_the_second_to_pass()
    {
        var limiter = Limiter(5);

        var first = Enumerable.Range(0, 5).Select(_ => limiter.Reserve("111")).ToList();
        var sixth = limiter.Reserve("111");
        var seventh = limiter.Reserve("111");

        Assert.All(first, wait => Assert.Equal(TimeSpan.Zero, wait));
        Assert.Equal(TimeSpan.FromSeconds(1), sixth);
        Assert.Equal(TimeSpan.FromSeconds(1), seventh);
    }

    [Fact]
    public void Turns_taken_a_second_ago_are_free_again()
    {
        var limiter = Limiter(3);
        _ = limiter.Reserve("111");
        _time.Advance(TimeSpan.FromMilliseconds(400));
        _ = limiter.Reserve("111");
        _ = limiter.Reserve("111");

        _time.Advance(TimeSpan.FromMilliseconds(600));

        Assert.Equal(TimeSpan.Zero, limiter.Reserve("111"));
        Assert.Equal(TimeSpan.FromMilliseconds(400), limiter.Reserve("111"));
    }

    [Fact]
    public void Each_number_has_its_own_limit()
    {
        var limiter = Limiter(2);
        _ = limiter.Reserve("111");
        _ = limiter.Reserve("111");

        Assert.Equal(TimeSpan.Zero, limiter.Reserve("222"));
        Assert.Equal(TimeSpan.FromSeconds(1), limiter.Reserve("111"));
    }

    [Fact]
    public async Task A_send_past_the_limit_waits_until_the_clock_frees_a_turn()
    {
        var limiter = Limiter(1);
        await limiter.WaitTurnAsync("111", TestContext.Current.CancellationToken);

        var waiting = limiter.WaitTurnAsync("111", TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }
}
