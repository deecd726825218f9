using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Instances;

public sealed class EngineAuthEntryConfiguration : IEntityTypeConfiguration<EngineAuthEntry>
{
    public void Configure(EntityTypeBuilder<EngineAuthEntry> builder)
    {
        builder.HasIndex(a => new { a.InstanceId, a.Category, a.KeyId }).IsUnique();
        builder.Property(a => a.Category).HasMaxLength(40);
        builder.Property(a => a.KeyId).HasMaxLength(200);
        builder.HasOne<Instance>().WithMany().HasForeignKey(a => a.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
