using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>
/// One engine session an instance actor opened, with what the actor knows of it: the fence epoch it holds, the QR code
/// shown, the instance as last recorded and the pending reconnect. A reopen makes a new one; once closed, its late
/// events change nothing.
/// </summary>
internal sealed class LiveSession(int instanceId, string code, long epoch, CurrentSession owner, CancellationToken leaving)
{
    public int InstanceId { get; } = instanceId;
    public string Code { get; } = code;
    public long Epoch { get; } = epoch;

    /// <summary>The actor's hold on its session: whether this one is still it, and the one way to end it.</summary>
    public CurrentSession Owner { get; } = owner;

    /// <summary>Cancelled when the actor leaves this node (deactivation): every wait and retry of the session ends.</summary>
    public CancellationToken Leaving { get; } = leaving;

    public IEngineSession? Session { get; set; }
    public QrCodeEvent? Qr { get; set; }
    public Instance? Instance { get; set; }
    public int ReconnectAttempts { get; set; }
    public PendingRetry? Retry;

    /// <summary>Engine events of the session are handled one at a time, in order, under this gate.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public CancellationTokenSource Closed { get; } = new();
}

/// <summary>
/// The session an instance actor holds now (at most one), published to <see cref="LocalInstances"/> for this node's outbox.
/// </summary>
/// <remarks>
/// Ending it is a compare-and-set: a close, a deactivation and a lost fence (noticed on an engine thread) may race,
/// and only the first one disposes the session.
/// </remarks>
internal sealed class CurrentSession(LocalInstances local)
{
    private LiveSession? _live;

    public LiveSession? Live => _live;

    public void Start(LiveSession live)
    {
        _live = live;
        Publish(live);
    }

    public void Publish(LiveSession live) => local.Publish(live.InstanceId, live.Code, live.Session, live.Instance, live.Epoch);

    /// <summary>Publishes what <paramref name="live"/> knows now, unless another session replaced it meanwhile.</summary>
    public void PublishIfCurrent(LiveSession live)
    {
        if (ReferenceEquals(_live, live))
            Publish(live);
    }

    /// <summary>Closes <paramref name="live"/> if it is still the current session; false when another call closed it first.</summary>
    public async Task<bool> EndAsync(LiveSession live)
    {
        if (Interlocked.CompareExchange(ref _live, null, live) != live)
            return false;
        await live.Closed.CancelAsync();
        local.Remove(live.InstanceId, live.Code);
        if (live.Session is not null)
            await live.Session.DisposeAsync();
        return true;
    }
}
