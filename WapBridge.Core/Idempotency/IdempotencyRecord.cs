namespace WapBridge.Core.Idempotency;

/// <summary>
/// The first answer to a POST that carried an <c>Idempotency-Key</c>. A row without a
/// <see cref="StatusCode"/> marks a request still being processed.
/// </summary>
public sealed class IdempotencyRecord
{
    public long Id { get; set; }

    /// <summary>Whose key space this is: the API key id, or <c>admin</c> for the bootstrap token.</summary>
    public required string Scope { get; set; }

    public required string Key { get; set; }

    /// <summary>SHA-256 of the method path and arguments, to refuse a key reused for another request.</summary>
    public required string RequestHash { get; set; }

    public int? StatusCode { get; set; }
    public string? ResponseBody { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
