using System.Text.Json.Serialization;
using WapBridge.Core.Common;

namespace WapBridge.Core.Instances;

/// <summary>Instance states, stored and shown as their <see cref="WireNames"/> strings (<c>logged_out</c>; contract §6).</summary>
[JsonConverter(typeof(WireNameJsonConverter<InstanceState>))]
public enum InstanceState
{
    New,
    Qr,
    Pairing,
    Connecting,
    Connected,
    Disconnected,
    LoggedOut,
}

/// <summary>One WhatsApp number connected (or being connected) to WapBridge.</summary>
public sealed class Instance
{
    public int Id { get; set; }

    /// <summary>Public id <c>INST-NN-NNNNNNN</c>: NN is the node that created it (it no longer decides where it runs).</summary>
    public required string Code { get; set; }

    public int CustomerId { get; set; }
    public required string Name { get; set; }
    public required string Engine { get; set; }
    public InstanceState State { get; set; } = InstanceState.New;
    public string? PhoneNumber { get; set; }
    public string? PushName { get; set; }

    /// <summary>ISO 3166 region used to read national numbers such as <c>0755 123456</c>.</summary>
    public string? DefaultCountry { get; set; }

    /// <summary>The node where the instance lives now (or last lived), shown as <c>node</c> (contract §10).</summary>
    public required string NodeId { get; set; }

    /// <summary>
    /// The fence: the node allowed to hold the instance's WhatsApp connection (null when none holds it), and a number
    /// that grows with every take-over. A node writes the instance's state only while both are still its own.
    /// </summary>
    public string? SessionNode { get; set; }
    public long SessionEpoch { get; set; }

    /// <summary>The engine's session credentials, encrypted with Data Protection.</summary>
    public string? EngineCredentials { get; set; }

    /// <summary>
    /// Cloud API: the approved template (name and language) that free-form sends outside the 24-hour window go out as,
    /// with their text as its parameter, instead of failing with <c>template_required</c> (contract §11).
    /// </summary>
    public string? FallbackTemplate { get; set; }
    public string? FallbackTemplateLanguage { get; set; }

    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset StateChangedAt { get; set; }
    public DateTimeOffset? ConnectedAt { get; set; }

    /// <summary>WhatsApp's reach-out timelock (463): sends to new contacts wait until then (contract §12).</summary>
    public DateTimeOffset? RestrictedUntil { get; set; }
    public string? RestrictionDetail { get; set; }

    /// <summary>A temporary ban (402): no reconnect before this time.</summary>
    public DateTimeOffset? BannedUntil { get; set; }

    /// <summary>IANA zone its days run in (contract §6 <c>timezone</c>); null takes the number's or country's main zone.</summary>
    public string? TimeZone { get; set; }

    /// <summary>When the number's warm-up began (its pairing on WapBridge); null counts as warmed up (paired before budgets existed).</summary>
    public DateTimeOffset? WarmUpStartedAt { get; set; }

    /// <summary>The level and score last judged (contract §12): a change of level fires <c>instance.health</c> once.</summary>
    public string? HealthLevel { get; set; }
    public int? HealthScore { get; set; }
    public DateTimeOffset? HealthChangedAt { get; set; }

    /// <summary>The owner lifted automatic protection (new-contact budget, pause at danger) until then: a logged action.</summary>
    public DateTimeOffset? ProtectionOverrideUntil { get; set; }

    /// <summary>Inbound messages the engine could not decrypt, shown on the instance.</summary>
    public int UndecryptableMessages { get; set; }

    /// <summary>Reconnect attempts since the instance was last connected, and when the next one starts.</summary>
    public int ReconnectAttempts { get; set; }
    public DateTimeOffset? NextRetryAt { get; set; }

    public static string FormatCode(string nodeId, long sequence) => $"INST-{nodeId}-{sequence:D7}";
}

/// <summary>A state change with its reason, kept for the dashboard's history and for support.</summary>
public sealed class InstanceStateChange
{
    public long Id { get; set; }
    public int InstanceId { get; set; }
    public required InstanceState State { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>The node that recorded the change (where the session lived then).</summary>
    public string? NodeId { get; set; }
}
