using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>
/// Hands a session's engine events to the host one at a time, in order, off the bridge's reader loop (a host
/// handler may itself wait for the bridge). Events of a disposed session are dropped.
/// </summary>
internal sealed class BaileysEventOutbox
{
    private readonly Channel<Func<Task>> _work = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IEngineEventSink _sink;
    private readonly BaileysSessionState _state;
    private readonly string _instanceId;
    private readonly ILogger _logger;

    public BaileysEventOutbox(IEngineEventSink sink, BaileysSessionState state, string instanceId, ILogger logger)
    {
        _sink = sink;
        _state = state;
        _instanceId = instanceId;
        _logger = logger;
        _ = Task.Run(PumpAsync);
    }

    public void Emit(EngineEvent e) => Enqueue(() => EmitAsync(e));

    public void Enqueue(Func<Task> work) => _work.Writer.TryWrite(work);

    /// <summary>Runs <paramref name="work"/> in its turn and waits for it (at once when the outbox is closed).</summary>
    public Task EnqueueAndWaitAsync(Func<Task> work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_work.Writer.TryWrite(async () =>
            {
                try { await work(); }
                finally { done.TrySetResult(); }
            }))
            return work();
        return done.Task;
    }

    public async Task EmitAsync(EngineEvent e)
    {
        if (_state.Disposed)
            return;
        await _sink.OnEventAsync(e);
    }

    public void Complete() => _work.Writer.TryComplete();

    private async Task PumpAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Handing a Baileys event of {Instance} to the host failed", _instanceId);
            }
        }
    }
}
