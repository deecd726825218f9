using WapBridge.Core.Campaigns;
using WapBridge.Core.Cluster;
using WapBridge.Core.Instances;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Overview;

/// <summary>
/// One customer's Overview: the last 24 hours hour by hour (<see cref="Hours"/>, oldest first, the current hour last and
/// still filling), the delivery and read rates of that window, the webhook backlog, the instances and the active campaigns.
/// </summary>
public sealed record OverviewFigures(
    DateTimeOffset From,
    DateTimeOffset At,
    IReadOnlyList<HourFigures> Hours,
    MessageRates Rates,
    WebhookFigures Webhooks,
    IReadOnlyList<InstanceTile> Instances,
    IReadOnlyList<CampaignStatus> Campaigns);

/// <summary>
/// The messages created in one hour (<see cref="Hour"/> is its start, UTC): outbound by the status they are in now
/// (<see cref="Pending"/> = queued or sending, <see cref="Read"/> counts played too), and inbound.
/// </summary>
public sealed record HourFigures(DateTimeOffset Hour, int Pending, int Sent, int Delivered, int Read, int Failed, int Inbound)
{
    public int Outbound => Pending + Sent + Delivered + Read + Failed;
}

/// <summary>
/// Outbound messages of the window: <see cref="Sent"/> reached WhatsApp (sent, delivered, read or played), of which
/// <see cref="Delivered"/> reached the phone and <see cref="Read"/> were read; the rates are of <see cref="Sent"/>, null without any.
/// </summary>
public sealed record MessageRates(int Outbound, int Sent, int Delivered, int Read, int Failed)
{
    public double? DeliveryRate => Sent == 0 ? null : (double)Delivered / Sent;

    public double? ReadRate => Sent == 0 ? null : (double)Read / Sent;
}

/// <summary>
/// Webhook deliveries: <see cref="Backlog"/> waiting (the oldest created at <see cref="OldestPendingAt"/>), of which
/// <see cref="Retrying"/> already failed at least once, and <see cref="Dead"/> given up on among those created in the window.
/// </summary>
public sealed record WebhookFigures(int Backlog, DateTimeOffset? OldestPendingAt, int Retrying, int Dead);

/// <summary>
/// One instance at a glance: its state, its outbound queue (queued and sending), its newest message either way, and
/// the health level last judged (null before the first judgement).
/// </summary>
public sealed record InstanceTile(
    string InstanceId, string Name, string? PhoneNumber, InstanceState State, int Queue, DateTimeOffset? LastActivity, string? HealthLevel, int? HealthScore);

/// <summary>
/// What an Admin sees of the cluster: its nodes (or why they could not be read), and this node's bridge processes with
/// the restarts since it started.
/// </summary>
public sealed record ClusterFigures(IReadOnlyList<NodeSummary> Nodes, string? NodesError, IReadOnlyList<BridgeProcessSnapshot> Bridges, long BridgeRestarts);
