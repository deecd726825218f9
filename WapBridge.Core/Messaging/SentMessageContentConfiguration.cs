using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Messaging;

public sealed class SentMessageContentConfiguration : IEntityTypeConfiguration<SentMessageContent>
{
    public void Configure(EntityTypeBuilder<SentMessageContent> builder)
    {
        builder.HasIndex(c => new { c.InstanceId, c.WaMessageId });
        builder.HasIndex(c => c.CreatedAt);
        builder.Property(c => c.WaMessageId).HasMaxLength(64);
        builder.Property(c => c.RemoteJid).HasMaxLength(128);
        builder.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
