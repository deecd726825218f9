using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// One POST Meta made to an instance's callback URL, stored (signature already checked) before it is answered: Meta
/// retries callbacks that fail, but one answered 200 and then lost in a crash would be gone. Processed from this row.
/// </summary>
public sealed class CloudApiCallback
{
    public long Id { get; set; }
    public int InstanceId { get; set; }

    /// <summary>The raw body as Meta sent it (the signature covers exactly these bytes, as UTF-8).</summary>
    public required string Body { get; set; }

    /// <summary>
    /// SHA-256 (hex) of <see cref="Body"/>, unique per instance: Meta sends a callback again, byte for byte, when our
    /// answer did not reach it, and the copy must not be processed twice (a second <c>message.sent</c> webhook).
    /// Null on rows stored before it was kept.
    /// </summary>
    public string? BodySha256 { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Null while waiting to be processed.</summary>
    public DateTimeOffset? ProcessedAt { get; set; }

    public int Attempts { get; set; }
    public string? LastError { get; set; }
}

public sealed class CloudApiCallbackConfiguration : IEntityTypeConfiguration<CloudApiCallback>
{
    public void Configure(EntityTypeBuilder<CloudApiCallback> builder)
    {
        // The drain: what is still to process, oldest first.
        builder.HasIndex(c => new { c.ProcessedAt, c.Id });
        builder.Property(c => c.LastError).HasMaxLength(500);
        builder.Property(c => c.BodySha256).HasMaxLength(64);
        builder.HasIndex(c => new { c.InstanceId, c.BodySha256 }).IsUnique();
        builder.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
