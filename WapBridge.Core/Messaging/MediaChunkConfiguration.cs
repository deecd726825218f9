using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Messaging;

public sealed class MediaChunkConfiguration : IEntityTypeConfiguration<MediaChunk>
{
    public void Configure(EntityTypeBuilder<MediaChunk> builder)
    {
        builder.HasKey(c => new { c.Hash, c.Index });
        builder.Property(c => c.Hash).HasMaxLength(64);
        builder.HasOne<MediaBlob>().WithMany().HasForeignKey(c => c.Hash).OnDelete(DeleteBehavior.Cascade);
    }
}
