using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

/// <summary>Section <c>WapBridge:Accounts:Quotas</c>: what one customer may use unless an operator set its own limits.</summary>
public sealed class QuotaOptions
{
    public int MaxInstances { get; set; } = 50;

    /// <summary>Recipient entries one campaign may hold in all (create plus every add); each request carries at most <c>Campaigns:MaxRecipientsPerRequest</c>.</summary>
    public int MaxRecipientsPerCampaign { get; set; } = 1_000_000;

    /// <summary>Largest media file of one message; unset means only the per-kind media limits apply.</summary>
    public long? MaxMediaBytesPerMessage { get; set; }
}

/// <summary>
/// One customer's quotas in force: its own columns where an operator set them (<c>admin.create_customer</c>,
/// <c>admin.update_customer</c>), else the server's <see cref="QuotaOptions"/>. Read fresh each time, so an update
/// applies to the next request on every node.
/// </summary>
public sealed record CustomerQuotas(int MaxInstances, int MaxRecipientsPerCampaign, long? MaxMediaBytesPerMessage)
{
    public static async Task<CustomerQuotas> ReadAsync(WapBridgeDbContext db, int customerId, QuotaOptions defaults, CancellationToken ct)
    {
        var own = await db.Customers.AsNoTracking().Where(c => c.Id == customerId)
            .Select(c => new { c.MaxInstances, c.MaxRecipientsPerCampaign, c.MaxMediaBytesPerMessage }).SingleOrDefaultAsync(ct);
        return new CustomerQuotas(own?.MaxInstances ?? defaults.MaxInstances, own?.MaxRecipientsPerCampaign ?? defaults.MaxRecipientsPerCampaign,
            own?.MaxMediaBytesPerMessage ?? defaults.MaxMediaBytesPerMessage);
    }

    public void EnsureInstanceAllowed(int existing)
    {
        if (existing >= MaxInstances)
            throw new WapBridgeException(ErrorKind.Validation, "quota_exceeded",
                $"This account has {existing:N0} instances, its max_instances quota is {MaxInstances:N0}: delete an instance, or ask the operator to raise max_instances.");
    }

    public void EnsureRecipientsAllowed(long existing, long adding)
    {
        if (existing + adding > MaxRecipientsPerCampaign)
            throw WapBridgeException.Invalid("recipients", "quota_exceeded", existing == 0
                ? $"recipients has {adding:N0} entries; this account's max_recipients_per_campaign quota is {MaxRecipientsPerCampaign:N0}: send fewer, or ask the operator to raise max_recipients_per_campaign."
                : $"The campaign holds {existing:N0} recipients and recipients adds {adding:N0}; this account's max_recipients_per_campaign quota is {MaxRecipientsPerCampaign:N0}: send at most {Math.Max(0, MaxRecipientsPerCampaign - existing):N0}, or ask the operator to raise max_recipients_per_campaign.");
    }

    public void EnsureMediaAllowed(long bytes)
    {
        if (MaxMediaBytesPerMessage is { } max && bytes > max)
            throw WapBridgeException.Invalid("media_data", "quota_exceeded",
                $"media_data is {bytes:N0} bytes; this account's max_media_bytes_per_message quota is {max:N0}: send a smaller file, or ask the operator to raise max_media_bytes_per_message.");
    }
}

/// <summary>
/// Quota arguments of <c>admin.create_customer</c> and <c>admin.update_customer</c>, as sent: absent leaves a quota
/// as it is, <c>"default"</c> makes it follow the server's default again, a whole number sets it.
/// </summary>
public sealed record QuotaArguments(string? MaxInstances, string? MaxRecipientsPerCampaign, string? MaxMediaBytesPerMessage)
{
    public const string Default = "default";

    public static readonly QuotaArguments None = new(null, null, null);

    public bool Any => !string.IsNullOrWhiteSpace(MaxInstances) || !string.IsNullOrWhiteSpace(MaxRecipientsPerCampaign)
        || !string.IsNullOrWhiteSpace(MaxMediaBytesPerMessage);

    /// <summary>Checks every argument before anything is changed; then sets them on <paramref name="customer"/>.</summary>
    internal Action<Customer> Parse()
    {
        var instances = Read(MaxInstances, "max_instances", int.MaxValue);
        var recipients = Read(MaxRecipientsPerCampaign, "max_recipients_per_campaign", int.MaxValue);
        var media = Read(MaxMediaBytesPerMessage, "max_media_bytes_per_message", long.MaxValue);
        return customer =>
        {
            if (instances.Given) customer.MaxInstances = (int?)instances.Value;
            if (recipients.Given) customer.MaxRecipientsPerCampaign = (int?)recipients.Value;
            if (media.Given) customer.MaxMediaBytesPerMessage = media.Value;
        };
    }

    private static (bool Given, long? Value) Read(string? text, string field, long max)
    {
        if (string.IsNullOrWhiteSpace(text))
            return (false, null);
        text = text.Trim();
        if (text.Equals(Default, StringComparison.OrdinalIgnoreCase))
            return (true, null);
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value <= max
            ? (true, value)
            : throw WapBridgeException.Invalid(field, "invalid_quota", $"{field} must be a whole number from 0 to {max:N0}, or \"{Default}\" to follow the server's default");
    }
}
