using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Health;

public sealed class KnownContactConfiguration : IEntityTypeConfiguration<KnownContact>
{
    public void Configure(EntityTypeBuilder<KnownContact> builder)
    {
        builder.HasIndex(c => new { c.InstanceId, c.Number }).IsUnique().HasFilter("\"Number\" IS NOT NULL");
        builder.HasIndex(c => new { c.InstanceId, c.Lid }).IsUnique().HasFilter("\"Lid\" IS NOT NULL");
        // The day's budget: first messages of one instance since its local midnight.
        builder.HasIndex(c => new { c.InstanceId, c.Source, c.FirstSeenAt });
        builder.Property(c => c.Number).HasMaxLength(20);
        builder.Property(c => c.Lid).HasMaxLength(32);
        builder.Property(c => c.Source).HasMaxLength(16);
        builder.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
