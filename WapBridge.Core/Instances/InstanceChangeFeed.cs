using WapBridge.Core.Live;

namespace WapBridge.Core.Instances;

/// <summary>
/// "This instance's state or QR code changed", heard on every node wherever the instance lives: the instance topic of
/// <see cref="LiveChanges"/>, unmerged, for the instance actor and the views that follow one instance closely.
/// </summary>
public sealed class InstanceChangeFeed
{
    private readonly LiveNotices _notices;

    public InstanceChangeFeed(LiveChanges live, LiveNotices notices)
    {
        _notices = notices;
        live.Heard += change =>
        {
            if (change.Topic == LiveTopics.Instance && change.Subject is { } code)
                Changed?.Invoke(code);
        };
    }

    /// <summary>Raised with the instance code. Handlers run on the caller's thread and must return quickly.</summary>
    public event Action<string>? Changed;

    /// <summary>Tells this node's listeners and the other nodes'.</summary>
    public void Publish(string instanceCode) => _notices.InstanceChanged(instanceCode);
}
