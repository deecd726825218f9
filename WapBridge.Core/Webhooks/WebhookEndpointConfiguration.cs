using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Accounts;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Webhooks;

public sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> builder)
    {
        builder.HasIndex(w => new { w.CustomerId, w.InstanceId }).IsUnique();
        builder.Property(w => w.Url).HasMaxLength(2000);
        builder.Property(w => w.Events).HasMaxLength(1000);
        builder.Property(w => w.DisabledReason).HasMaxLength(300);
        builder.Ignore(w => w.EventList);
        builder.Ignore(w => w.IsRemoved);
        builder.HasOne<Customer>().WithMany().HasForeignKey(w => w.CustomerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Instance>().WithMany().HasForeignKey(w => w.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
