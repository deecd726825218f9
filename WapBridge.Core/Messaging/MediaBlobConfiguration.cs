using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Messaging;

public sealed class MediaBlobConfiguration : IEntityTypeConfiguration<MediaBlob>
{
    public void Configure(EntityTypeBuilder<MediaBlob> builder)
    {
        builder.HasKey(b => b.Hash);
        builder.Property(b => b.Hash).HasMaxLength(64);
        builder.HasIndex(b => b.StoredAt);
    }
}
