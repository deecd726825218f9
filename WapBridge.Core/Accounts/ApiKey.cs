namespace WapBridge.Core.Accounts;

/// <summary>
/// An API credential. The secret is never stored: only its SHA-256, which is enough because
/// secrets are 160 random bits and cannot be guessed or brute-forced from the hash.
/// </summary>
public sealed class ApiKey
{
    public int Id { get; set; }

    /// <summary>Public id: 15 lowercase hex characters, Frappe's form.</summary>
    public required string Key { get; set; }

    public required byte[] SecretHash { get; set; }

    /// <summary>Last four characters of the secret, so an owner can tell keys apart.</summary>
    public required string SecretHint { get; set; }

    public required string Label { get; set; }
    public int CustomerId { get; set; }
    public Customer? Customer { get; set; }

    /// <summary>The dashboard user who created it.</summary>
    public string? CreatedByUserId { get; set; }

    /// <summary>
    /// Created explicitly as an admin key. It may call the admin API only while its creator is still an Admin,
    /// so demoting a user disarms their keys without revoking them.
    /// </summary>
    public bool IsAdmin { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public bool IsRevoked => RevokedAt is not null;
}
