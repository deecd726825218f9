using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Meta's throughput per business phone number (<see cref="CloudApiOptions.MessagesPerSecond"/>): at most that many
/// sends start in any one second, per phone number id, across every session of this process (a number re-created as
/// a new instance, or two instances of one number, share the limit as they share it at Meta). Going over it only
/// earns 130429 refusals, so sends wait their turn here instead.
/// </summary>
public sealed class GraphSendLimiter(IOptions<CloudApiOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Slots> _numbers = new(StringComparer.Ordinal);

    /// <summary>Waits until a send for <paramref name="phoneNumberId"/> may start, and takes that turn.</summary>
    public async ValueTask WaitTurnAsync(string phoneNumberId, CancellationToken ct)
    {
        var wait = Reserve(phoneNumberId);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, time, ct);
    }

    /// <summary>Takes the next turn and answers how long until it starts (zero: now).</summary>
    internal TimeSpan Reserve(string phoneNumberId)
    {
        var slots = _numbers.GetOrAdd(phoneNumberId, _ => new Slots(Math.Max(1, options.Value.MessagesPerSecond)));
        var now = time.GetUtcNow();
        return slots.Reserve(now) - now;
    }

    /// <summary>
    /// The start times of the last <c>rate</c> turns, as a ring: a new turn starts no earlier than one second after the
    /// turn <c>rate</c> places before it, so no window of one second holds more than <c>rate</c> starts.
    /// </summary>
    private sealed class Slots(int rate)
    {
        private readonly DateTimeOffset[] _starts = new DateTimeOffset[rate];
        private readonly Lock _gate = new();
        private int _next;

        public DateTimeOffset Reserve(DateTimeOffset now)
        {
            lock (_gate)
            {
                var start = _starts[_next] + Window is var free && free > now ? free : now;
                _starts[_next] = start;
                _next = (_next + 1) % _starts.Length;
                return start;
            }
        }
    }
}
