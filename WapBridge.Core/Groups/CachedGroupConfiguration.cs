using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Groups;

public sealed class CachedGroupConfiguration : IEntityTypeConfiguration<CachedGroup>
{
    public void Configure(EntityTypeBuilder<CachedGroup> builder)
    {
        builder.HasIndex(g => new { g.InstanceId, g.GroupJid }).IsUnique();
        builder.Property(g => g.GroupJid).HasMaxLength(64);
        builder.Property(g => g.Subject).HasMaxLength(100);
        builder.Property(g => g.Description).HasMaxLength(2048);
        builder.Property(g => g.Owner).HasMaxLength(40);
        builder.Property(g => g.OurRole).HasMaxLength(16);
        builder.HasOne<Instance>().WithMany().HasForeignKey(g => g.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
