using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Instances;

public sealed class InstanceStateChangeConfiguration : IEntityTypeConfiguration<InstanceStateChange>
{
    public void Configure(EntityTypeBuilder<InstanceStateChange> builder)
    {
        builder.HasIndex(c => new { c.InstanceId, c.At });
        builder.Property(c => c.State).HasMaxLength(20);
        builder.Property(c => c.Reason).HasMaxLength(500);
        builder.Property(c => c.NodeId).HasMaxLength(8);
        builder.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
