namespace WapBridge.Core.Engines.Simulator;

/// <summary>Section <c>WapBridge:Engines:Simulator</c>.</summary>
public sealed class SimulatorOptions
{
    public const string Section = "WapBridge:Engines:Simulator";

    public bool Enabled { get; set; } = true;

    /// <summary>Lifetime of the first QR code; WhatsApp Web shows it for about a minute.</summary>
    public TimeSpan FirstQrLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Lifetime of each later QR code.</summary>
    public TimeSpan NextQrLifetime { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How many QR codes are shown before pairing gives up (first + rotations).</summary>
    public int MaxQrCodes { get; set; } = 6;

    /// <summary>Time between accepting a send and the server ack.</summary>
    public TimeSpan SendLatency { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Time from the send to the delivered (device) receipt.</summary>
    public TimeSpan DeliveredAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Time from the send to the read receipt; null = recipients never read.</summary>
    public TimeSpan? ReadAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Numbers (digits only) matching this pattern are "not on WhatsApp": sends to them fail.</summary>
    public string? NotOnWhatsAppPattern { get; set; } = "^0+$|^\\d*9999$";

    /// <summary>
    /// Numbers (digits only) matching this pattern refuse being added to groups by their privacy settings: WhatsApp
    /// sends them an invite instead (<c>invite_sent</c>). Empty: everyone can be added.
    /// </summary>
    public string? InviteOnlyPattern { get; set; }

    /// <summary>When set, a connected session drops its connection after a random time up to this long, then reconnects.</summary>
    public TimeSpan? RandomDisconnectWithin { get; set; }
}
