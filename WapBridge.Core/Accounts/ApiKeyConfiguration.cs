using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Accounts;

public sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.HasIndex(k => k.Key).IsUnique();
        builder.HasIndex(k => k.CustomerId);
        builder.Property(k => k.Key).HasMaxLength(15);
        builder.Property(k => k.SecretHint).HasMaxLength(8);
        builder.Property(k => k.Label).HasMaxLength(100);
        builder.HasOne(k => k.Customer).WithMany().HasForeignKey(k => k.CustomerId).OnDelete(DeleteBehavior.Cascade);
    }
}
