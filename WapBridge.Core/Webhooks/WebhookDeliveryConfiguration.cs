using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Webhooks;

public sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        // The dispatcher's query: pending deliveries by due time.
        builder.HasIndex(d => new { d.State, d.NextAttemptAt });
        builder.HasIndex(d => new { d.CustomerId, d.Id });
        // The Overview's backlog and dead deliveries of one customer.
        builder.HasIndex(d => new { d.CustomerId, d.State, d.CreatedAt });
        builder.Property(d => d.EventId).HasMaxLength(40);
        builder.Property(d => d.EventType).HasMaxLength(30);
        builder.Property(d => d.State).HasMaxLength(12);
        builder.Property(d => d.LastResponse).HasMaxLength(500);
        builder.Property(d => d.LastError).HasMaxLength(500);
        builder.Property(d => d.TraceParent).HasMaxLength(55);
        builder.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(d => d.EndpointId).OnDelete(DeleteBehavior.Cascade);
    }
}
