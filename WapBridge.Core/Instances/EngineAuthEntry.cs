namespace WapBridge.Core.Instances;

/// <summary>
/// One entry of an engine's auth state (Baileys: <c>creds</c>, and signal keys such as <c>pre-key</c> or
/// <c>session</c> by id), its value encrypted with Data Protection. Kept per instance so any node resumes it.
/// </summary>
public sealed class EngineAuthEntry
{
    public long Id { get; set; }
    public int InstanceId { get; set; }
    public required string Category { get; set; }
    public required string KeyId { get; set; }

    /// <summary>The engine's opaque value, sealed with Data Protection.</summary>
    public required string Value { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
