namespace WapBridge.Core.Accounts;

/// <summary>Section <c>WapBridge:Accounts</c>.</summary>
public sealed class AccountOptions
{
    public const string Section = "WapBridge:Accounts";

    /// <summary>The first user can always register (and becomes Admin); later sign-ups only when this is true.</summary>
    public bool AllowRegistration { get; set; }

    /// <summary>Server-wide quotas; a customer's own values (set by an operator) replace them.</summary>
    public QuotaOptions Quotas { get; set; } = new();
}
