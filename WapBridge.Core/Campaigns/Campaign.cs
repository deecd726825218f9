using System.Text.Json.Serialization;
using WapBridge.Core.Common;

namespace WapBridge.Core.Campaigns;

/// <summary>A campaign's state, stored and shown as its <see cref="WireNames"/> string, in the order a campaign goes through them.</summary>
[JsonConverter(typeof(WireNameJsonConverter<CampaignState>))]
public enum CampaignState
{
    /// <summary>
    /// Hidden while its recipients are stored chunk by chunk: not listed, not runnable, not found by its code.
    /// One left behind by a dead process is deleted by <see cref="CampaignRecovery"/>.
    /// </summary>
    Creating,
    Scheduled,
    Running,
    Paused,
    Completed,
    Cancelled,
}

/// <summary>
/// A recipient's state, stored and shown as its <see cref="WireNames"/> string. The forward path is declared in order
/// (<see cref="Pending"/> to <see cref="Read"/>); the states after it end a recipient.
/// </summary>
[JsonConverter(typeof(WireNameJsonConverter<RecipientState>))]
public enum RecipientState
{
    Pending,
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
    Invalid,
    Duplicate,
    Skipped,

    /// <summary>Still pending when its campaign was cancelled: never sent.</summary>
    Cancelled,
}

/// <summary>
/// A throttled bulk send. Its counters are kept in the row, updated with each recipient's transition,
/// so reading a campaign's status costs the same at ten recipients or a hundred thousand.
/// </summary>
public sealed class Campaign
{
    public long Id { get; set; }

    /// <summary>Public id <c>WAP-CAM-0001</c>.</summary>
    public required string Code { get; set; }

    public int CustomerId { get; set; }
    public int InstanceId { get; set; }
    public required string Name { get; set; }
    public string? MessageText { get; set; }
    public string? MediaHash { get; set; }
    public string? MimeType { get; set; }
    public string? Filename { get; set; }
    public string? Caption { get; set; }

    /// <summary>
    /// Cloud API: the approved template every recipient gets, its body parameters filled in order from the recipient's
    /// <c>{{variables}}</c> (contract §11); null for a free-form campaign.
    /// </summary>
    public string? TemplateName { get; set; }
    public string? TemplateLanguage { get; set; }
    public CampaignState State { get; set; } = CampaignState.Running;

    public double MinDelaySeconds { get; set; }
    public double MaxDelaySeconds { get; set; }
    public int? HourlyLimit { get; set; }
    public int? DailyLimit { get; set; }
    public string? ActiveFrom { get; set; }
    public string? ActiveUntil { get; set; }
    public string? TimeZone { get; set; }

    /// <summary>
    /// Ask WhatsApp which recipients have it before sending (off by default: mass look-ups are themselves a ban signal);
    /// those without end <c>failed</c> with <c>not_on_whatsapp</c> before any send.
    /// </summary>
    public bool CheckNumbersFirst { get; set; }

    public int Total { get; set; }
    public int Pending { get; set; }
    public int Sent { get; set; }
    public int Delivered { get; set; }
    public int Read { get; set; }
    public int Failed { get; set; }
    public int Invalid { get; set; }
    public int Duplicates { get; set; }
    public int Skipped { get; set; }
    public int Cancelled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ScheduledAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? PausedReason { get; set; }
    public DateTimeOffset? NextSendAt { get; set; }

    /// <summary>A runner holds the campaign until this time; another runner may take over only after it.</summary>
    public DateTimeOffset? RunnerLeaseUntil { get; set; }

    public static string FormatCode(long sequence) => $"WAP-CAM-{sequence:D4}";
}

public sealed class CampaignRecipient
{
    public long Id { get; set; }
    public long CampaignId { get; set; }

    /// <summary>What the caller sent, kept for invalid rows and exports.</summary>
    public required string RawInput { get; set; }

    /// <summary>Digits-only E.164; null when invalid.</summary>
    public string? Number { get; set; }

    /// <summary>JSON object of <c>{{variables}}</c> for this recipient.</summary>
    public string? Variables { get; set; }

    public RecipientState State { get; set; } = RecipientState.Pending;
    public long? MessageId { get; set; }
    public string? Error { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A number that asked not to be messaged by this customer's campaigns again.</summary>
public sealed class Suppression
{
    public long Id { get; set; }
    public int CustomerId { get; set; }
    public required string Number { get; set; }
    public required string Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
