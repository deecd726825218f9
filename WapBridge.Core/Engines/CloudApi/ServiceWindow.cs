using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// Meta's 24-hour customer-service window with one contact: free-form messages may go out until 24 h after the
/// contact's last message; after that only approved templates (contract §11).
/// </summary>
public sealed class ServiceWindow
{
    public int InstanceId { get; set; }

    /// <summary>Digits-only E.164 without <c>+</c>.</summary>
    public required string Number { get; set; }

    public DateTimeOffset LastInboundAt { get; set; }

    public static readonly TimeSpan Length = TimeSpan.FromHours(24);
}

public sealed class ServiceWindowConfiguration : IEntityTypeConfiguration<ServiceWindow>
{
    public void Configure(EntityTypeBuilder<ServiceWindow> builder)
    {
        builder.HasKey(w => new { w.InstanceId, w.Number });
        builder.Property(w => w.Number).HasMaxLength(20);
        builder.HasOne<Instance>().WithMany().HasForeignKey(w => w.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
