namespace WapBridge.Core.Contacts;

/// <summary>
/// WhatsApp's answer to "is this number on WhatsApp?" for one instance, cached so a first send (and
/// <c>contacts.check_numbers</c>) asks WhatsApp once a day at most: mass look-ups are themselves a ban signal.
/// </summary>
public sealed class NumberCheck
{
    public long Id { get; set; }
    public int InstanceId { get; set; }

    /// <summary>Digits-only E.164 without <c>+</c>.</summary>
    public required string Number { get; set; }

    public bool OnWhatsApp { get; set; }

    /// <summary>The JID WhatsApp answered (sends go there), when on WhatsApp.</summary>
    public string? Jid { get; set; }

    public string? Lid { get; set; }
    public DateTimeOffset CheckedAt { get; set; }
}
