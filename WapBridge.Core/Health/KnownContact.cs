namespace WapBridge.Core.Health;

/// <summary>
/// A contact the instance's number already has a conversation with, so a message to it is not a first message to a
/// stranger: it never counts against the new-contact budget and goes out during a reach-out restriction only when the
/// contact wrote first (contract §12).
/// </summary>
public sealed class KnownContact
{
    public long Id { get; set; }
    public int InstanceId { get; set; }

    /// <summary>Digits-only E.164 without <c>+</c>; null for a contact WhatsApp synced by its LID alone.</summary>
    public string? Number { get; set; }

    /// <summary>The LID's user part (digits of <c>…@lid</c>) when WhatsApp named the contact that way.</summary>
    public string? Lid { get; set; }

    /// <summary>How the instance came to know the contact: one of <see cref="KnownContactSources"/>.</summary>
    public required string Source { get; set; }

    /// <summary>When it became known: for <see cref="KnownContactSources.Messaged"/> the day's budget counts these.</summary>
    public DateTimeOffset FirstSeenAt { get; set; }
}

public static class KnownContactSources
{
    /// <summary>WhatsApp synced it to the linked device (the phone's contacts and chats, history sync).</summary>
    public const string Synced = "synced";

    /// <summary>The contact wrote to the instance before the instance ever wrote to it.</summary>
    public const string WroteFirst = "wrote_first";

    /// <summary>The instance wrote first: a new contact, counted against the budget of that day.</summary>
    public const string Messaged = "messaged";
}
