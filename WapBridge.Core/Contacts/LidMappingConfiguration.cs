using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Contacts;

public sealed class LidMappingConfiguration : IEntityTypeConfiguration<LidMapping>
{
    public void Configure(EntityTypeBuilder<LidMapping> builder)
    {
        builder.HasIndex(m => new { m.InstanceId, m.Lid }).IsUnique();
        builder.HasIndex(m => new { m.InstanceId, m.PhoneNumber });
        builder.Property(m => m.Lid).HasMaxLength(32);
        builder.Property(m => m.PhoneNumber).HasMaxLength(20);
        builder.HasOne<Instance>().WithMany().HasForeignKey(m => m.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
