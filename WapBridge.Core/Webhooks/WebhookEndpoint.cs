using System.Text.Json.Serialization;
using WapBridge.Core.Common;

namespace WapBridge.Core.Webhooks;

public static class WebhookEvents
{
    public const string Message = "message";
    public const string MessageAck = "message.ack";
    public const string MessageSent = "message.sent";
    public const string InstanceStatus = "instance.status";
    public const string CampaignProgress = "campaign.progress";
    public const string CampaignCompleted = "campaign.completed";
    public const string MessageReaction = "message.reaction";
    public const string MessageEdited = "message.edited";
    public const string MessageRevoked = "message.revoked";
    public const string PollVote = "poll.vote";
    public const string Call = "call";
    public const string Presence = "presence";
    public const string ContactLid = "contact.lid";
    public const string GroupParticipants = "group.participants";
    public const string GroupUpdate = "group.update";
    public const string InstanceHealth = "instance.health";
    public const string Test = "test";

    public static readonly IReadOnlyList<string> All =
    [
        Message, MessageAck, MessageSent, InstanceStatus, CampaignProgress, CampaignCompleted,
        MessageReaction, MessageEdited, MessageRevoked, PollVote, Call, Presence, ContactLid, GroupParticipants, GroupUpdate,
        InstanceHealth,
    ];
}

/// <summary>Where a customer's events go: the customer default (no instance) or one instance's override.</summary>
public sealed class WebhookEndpoint
{
    public int Id { get; set; }
    public int CustomerId { get; set; }

    /// <summary>Null for the customer-wide endpoint; set for a per-instance override.</summary>
    public int? InstanceId { get; set; }

    public required string Url { get; set; }

    /// <summary>The secret, encrypted with Data Protection; null when none is set.</summary>
    public string? SecretProtected { get; set; }

    /// <summary>Comma-separated event names; <c>message</c> by default.</summary>
    public string Events { get; set; } = WebhookEvents.Message;

    public bool Enabled { get; set; } = true;

    /// <summary>Why deliveries stopped, e.g. the receiver answered 410 Gone.</summary>
    public string? DisabledReason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public const string RemovedReason = "removed by the owner";

    public bool IsRemoved => !Enabled && DisabledReason == RemovedReason;

    public IReadOnlyList<string> EventList => Events.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>A delivery's state, stored and shown as its <see cref="WireNames"/> string.</summary>
[JsonConverter(typeof(WireNameJsonConverter<DeliveryState>))]
public enum DeliveryState
{
    Pending,
    Delivered,
    Dead,
}

/// <summary>One event to one endpoint, persisted with the fact that caused it and driven to delivered or dead.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public int CustomerId { get; set; }
    public int EndpointId { get; set; }
    public int? InstanceId { get; set; }

    /// <summary>Stable across retries: the <c>webhook-id</c> header receivers de-duplicate on.</summary>
    public required string EventId { get; set; }

    public required string EventType { get; set; }
    public required string Payload { get; set; }
    public DeliveryState State { get; set; } = DeliveryState.Pending;
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastResponse { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>The W3C <c>traceparent</c> of the work that caused this delivery; its attempts continue that trace.</summary>
    public string? TraceParent { get; set; }
}
