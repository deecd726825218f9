using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Live;

/// <summary>Tells live views that messages changed, from Messaging's own seams: receipts applied and inbound messages stored.</summary>
public sealed class MessageLiveNotices(LiveNotices notices) : IReceiptListener, IInboundMessageObserver
{
    private readonly Lock _gate = new();
    private readonly HashSet<(int CustomerId, string Code)> _inbound = [];

    public Task OnAppliedAsync(IReadOnlyList<(int InstanceId, string WaMessageId)> receipts, CancellationToken ct)
    {
        foreach (var instanceId in receipts.Select(r => r.InstanceId).Distinct())
            notices.MessagesChanged(instanceId);
        return Task.CompletedTask;
    }

    public Task<bool> AddAsync(WapBridgeDbContext db, RecordedInbound message, CancellationToken ct)
    {
        lock (_gate)
            _inbound.Add((message.Instance.CustomerId, message.Instance.Code));
        return Task.FromResult(true);
    }

    public void Committed()
    {
        List<(int CustomerId, string Code)> stored;
        lock (_gate)
        {
            stored = [.. _inbound];
            _inbound.Clear();
        }
        foreach (var (customerId, code) in stored)
            notices.MessagesChanged(customerId, code);
    }
}
