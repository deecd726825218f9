using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Accounts;

namespace WapBridge.Core.Instances;

public sealed class InstanceConfiguration : IEntityTypeConfiguration<Instance>
{
    public void Configure(EntityTypeBuilder<Instance> builder)
    {
        builder.HasIndex(i => i.Code).IsUnique();
        builder.HasIndex(i => new { i.CustomerId, i.PhoneNumber });
        builder.Property(i => i.Code).HasMaxLength(20);
        builder.Property(i => i.Name).HasMaxLength(100);
        builder.Property(i => i.Engine).HasMaxLength(20);
        builder.Property(i => i.FallbackTemplate).HasMaxLength(512);
        builder.Property(i => i.FallbackTemplateLanguage).HasMaxLength(16);
        builder.Property(i => i.State).HasMaxLength(20);
        builder.Property(i => i.PhoneNumber).HasMaxLength(20);
        builder.Property(i => i.PushName).HasMaxLength(100);
        builder.Property(i => i.DefaultCountry).HasMaxLength(2);
        builder.Property(i => i.NodeId).HasMaxLength(8);
        builder.Property(i => i.SessionNode).HasMaxLength(8);
        builder.Property(i => i.LastError).HasMaxLength(500);
        builder.Property(i => i.RestrictionDetail).HasMaxLength(500);
        builder.Property(i => i.TimeZone).HasMaxLength(64);
        builder.Property(i => i.HealthLevel).HasMaxLength(16);
        builder.HasOne<Customer>().WithMany().HasForeignKey(i => i.CustomerId).OnDelete(DeleteBehavior.Cascade);
    }
}
