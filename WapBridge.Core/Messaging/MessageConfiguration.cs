using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Messaging;

public sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.HasIndex(m => m.SerializedId);
        builder.HasIndex(m => new { m.InstanceId, m.WaMessageId });
        // The outbox query: an instance's queued and sending messages in priority order.
        builder.HasIndex(m => new { m.InstanceId, m.Status, m.Priority, m.Id });
        builder.HasIndex(m => new { m.CustomerId, m.Id });
        // The Overview's last 24 hours of one customer.
        builder.HasIndex(m => new { m.CustomerId, m.CreatedAt });
        // The Chats page: an instance's conversations and each one's newest messages.
        builder.HasIndex(m => new { m.InstanceId, m.Chat, m.Id });
        builder.HasIndex(m => new { m.Status, m.ExpiresAt });
        builder.Property(m => m.Direction).HasMaxLength(10);
        builder.Property(m => m.WaMessageId).HasMaxLength(64);
        builder.Property(m => m.SerializedId).HasMaxLength(200);
        builder.Property(m => m.HoldReason).HasMaxLength(32);
        builder.Property(m => m.TraceParent).HasMaxLength(55);
        builder.Property(m => m.EngineMessageId).HasMaxLength(128);
        builder.HasIndex(m => new { m.InstanceId, m.EngineMessageId }).HasFilter("\"EngineMessageId\" IS NOT NULL");
        builder.Property(m => m.FromNumber).HasMaxLength(64);
        builder.Property(m => m.ToNumber).HasMaxLength(64);
        builder.Property(m => m.SenderName).HasMaxLength(100);
        builder.Property(m => m.Type).HasMaxLength(20);
        builder.Property(m => m.Filename).HasMaxLength(255);
        builder.Property(m => m.MimeType).HasMaxLength(100);
        builder.Property(m => m.MediaHash).HasMaxLength(64);
        builder.Property(m => m.Status).HasMaxLength(12);
        builder.Property(m => m.Error).HasMaxLength(500);
        builder.Property(m => m.ErrorCode).HasMaxLength(40);
        builder.Property(m => m.Source).HasMaxLength(12);
        builder.Property(m => m.Chat).HasMaxLength(64);
        builder.Property(m => m.QuotedId).HasMaxLength(64);
        builder.Property(m => m.Mentions).HasMaxLength(2000);
        builder.Property(m => m.TargetId).HasMaxLength(64);
        builder.HasOne<Instance>().WithMany().HasForeignKey(m => m.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
