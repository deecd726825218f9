namespace WapBridge.Core.Groups;

/// <summary>
/// A group an instance is in, as last read from WhatsApp: what the dashboard lists and what sends to the group use
/// (Baileys' <c>cachedGroupMetadata</c>) without asking WhatsApp each time; refreshed on group events and on
/// <c>groups.list_groups</c> / <c>groups.get_group</c>.
/// </summary>
public sealed class CachedGroup
{
    public long Id { get; set; }
    public int InstanceId { get; set; }

    /// <summary><c>…@g.us</c>.</summary>
    public required string GroupJid { get; set; }

    public required string Subject { get; set; }
    public string? Description { get; set; }

    /// <summary>The owner's phone digits, else its LID as <c>&lt;digits&gt;@lid</c>.</summary>
    public string? Owner { get; set; }

    /// <summary>The members as JSON (<see cref="Engines.EngineGroupParticipant"/> list).</summary>
    public required string ParticipantsJson { get; set; }

    public int Size { get; set; }

    /// <summary>The instance's own role: <c>superadmin</c>, <c>admin</c>, or null for a member.</summary>
    public string? OurRole { get; set; }

    public bool Announce { get; set; }
    public bool Restrict { get; set; }

    /// <summary>The instance is no longer in the group (it left or was removed): kept for the chat's history, not listed.</summary>
    public bool Left { get; set; }

    public DateTimeOffset RefreshedAt { get; set; }
}
