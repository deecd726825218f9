using System.Collections.Concurrent;

namespace WapBridge.Core.Messaging;

/// <summary>
/// Lets a caller wait, in memory and bounded, for a queued message to be sent or fail. Keyed by the
/// WhatsApp id, which exists before the row is saved: the watch starts before the outbox can see the
/// message, so an outcome can never be reported before anyone listens.
/// </summary>
public sealed class MessageOutcomes
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _waiting = new();

    public Task<string> WatchAsync(string waMessageId) =>
        _waiting.GetOrAdd(waMessageId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Forget(string waMessageId) => _waiting.TryRemove(waMessageId, out _);

    public void Report(string waMessageId, string status)
    {
        if (_waiting.TryRemove(waMessageId, out var waiter))
            waiter.TrySetResult(status);
    }
}
