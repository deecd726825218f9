using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Accounts;

namespace WapBridge.Core.Campaigns;

public sealed class SuppressionConfiguration : IEntityTypeConfiguration<Suppression>
{
    public void Configure(EntityTypeBuilder<Suppression> builder)
    {
        builder.HasIndex(s => new { s.CustomerId, s.Number }).IsUnique();
        builder.Property(s => s.Number).HasMaxLength(20);
        builder.Property(s => s.Reason).HasMaxLength(100);
        builder.HasOne<Customer>().WithMany().HasForeignKey(s => s.CustomerId).OnDelete(DeleteBehavior.Cascade);
    }
}
