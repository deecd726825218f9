using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Accounts;

public sealed class WapBridgeUserConfiguration : IEntityTypeConfiguration<WapBridgeUser>
{
    public void Configure(EntityTypeBuilder<WapBridgeUser> builder)
    {
        builder.HasOne(u => u.Customer).WithMany().HasForeignKey(u => u.CustomerId).OnDelete(DeleteBehavior.Restrict);
    }
}
