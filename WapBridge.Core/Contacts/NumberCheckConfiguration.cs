using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Contacts;

public sealed class NumberCheckConfiguration : IEntityTypeConfiguration<NumberCheck>
{
    public void Configure(EntityTypeBuilder<NumberCheck> builder)
    {
        builder.HasIndex(c => new { c.InstanceId, c.Number }).IsUnique();
        builder.Property(c => c.Number).HasMaxLength(20);
        builder.Property(c => c.Jid).HasMaxLength(64);
        builder.Property(c => c.Lid).HasMaxLength(32);
        builder.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
