using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WapBridge.Core.Campaigns;

public sealed class CampaignRecipientConfiguration : IEntityTypeConfiguration<CampaignRecipient>
{
    public void Configure(EntityTypeBuilder<CampaignRecipient> builder)
    {
        // The runner's query: a campaign's next recipient by state and insertion order.
        builder.HasIndex(r => new { r.CampaignId, r.State, r.Id });
        builder.HasIndex(r => new { r.CampaignId, r.Number });
        builder.HasIndex(r => r.MessageId);
        builder.Property(r => r.RawInput).HasMaxLength(200);
        builder.Property(r => r.Number).HasMaxLength(20);
        builder.Property(r => r.State).HasMaxLength(12);
        builder.Property(r => r.Error).HasMaxLength(300);
        builder.HasOne<Campaign>().WithMany().HasForeignKey(r => r.CampaignId).OnDelete(DeleteBehavior.Cascade);
    }
}
