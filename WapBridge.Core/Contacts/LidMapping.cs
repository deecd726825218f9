namespace WapBridge.Core.Contacts;

/// <summary>
/// A LID ↔ phone pair an instance learned from WhatsApp. Persisted so webhooks carry the phone number whenever
/// WhatsApp ever told us, across restarts and on every node.
/// </summary>
public sealed class LidMapping
{
    public long Id { get; set; }
    public int InstanceId { get; set; }

    /// <summary>The LID's user part, digits only (<c>120542636048510</c> of <c>120542636048510@lid</c>).</summary>
    public required string Lid { get; set; }

    /// <summary>Digits-only E.164 without <c>+</c>.</summary>
    public required string PhoneNumber { get; set; }

    public DateTimeOffset LearnedAt { get; set; }
}
