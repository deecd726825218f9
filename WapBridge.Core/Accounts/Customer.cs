namespace WapBridge.Core.Accounts;

/// <summary>The account that owns instances, API keys, campaigns and webhook settings.</summary>
public sealed class Customer
{
    public int Id { get; set; }

    /// <summary>Public id, <c>CUST-0001</c>.</summary>
    public required string Code { get; set; }

    public required string Name { get; set; }
    public required string Email { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The instance that sends when a request names none (ERPNext's gateway, for one).</summary>
    public int? DefaultInstanceId { get; set; }

    /// <summary>Per-customer quotas set by an operator; null takes the server-wide default (<c>Accounts:Quotas</c>).</summary>
    public int? MaxInstances { get; set; }

    public int? MaxRecipientsPerCampaign { get; set; }

    public long? MaxMediaBytesPerMessage { get; set; }

    /// <summary>
    /// An Admin let this customer run campaigns without spacing or caps on real engines (contract §12): off by
    /// default, because a number sending flat out to many contacts is what WhatsApp bans.
    /// </summary>
    public bool AllowUnthrottledCampaigns { get; set; }

    public static string FormatCode(long sequence) => $"CUST-{sequence:D4}";
}
