using System.Collections.Concurrent;

namespace WapBridge.Core.Messaging;

/// <summary>Lets an API call wait, in memory and bounded, for the send it just queued to be sent or fail.</summary>
public sealed class MessageOutcomes
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<string>> _waiting = new();

    public Task<string> WatchAsync(long messageId) =>
        _waiting.GetOrAdd(messageId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Forget(long messageId) => _waiting.TryRemove(messageId, out _);

    public void Report(long messageId, string status)
    {
        if (_waiting.TryRemove(messageId, out var waiter))
            waiter.TrySetResult(status);
    }
}
