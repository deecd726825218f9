using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WapBridge.Core.Accounts;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Campaigns;

public sealed class CampaignConfiguration : IEntityTypeConfiguration<Campaign>
{
    public void Configure(EntityTypeBuilder<Campaign> builder)
    {
        builder.HasIndex(c => c.Code).IsUnique();
        builder.HasIndex(c => new { c.CustomerId, c.Id });
        builder.HasIndex(c => new { c.InstanceId, c.State });
        builder.Property(c => c.Code).HasMaxLength(20);
        builder.Property(c => c.Name).HasMaxLength(140);
        // Meta's limits: template names up to 512 characters, language codes such as en_US.
        builder.Property(c => c.TemplateName).HasMaxLength(512);
        builder.Property(c => c.TemplateLanguage).HasMaxLength(16);
        builder.Property(c => c.State).HasMaxLength(12);
        builder.Property(c => c.MediaHash).HasMaxLength(64);
        builder.Property(c => c.MimeType).HasMaxLength(100);
        builder.Property(c => c.Filename).HasMaxLength(255);
        builder.Property(c => c.ActiveFrom).HasMaxLength(5);
        builder.Property(c => c.ActiveUntil).HasMaxLength(5);
        builder.Property(c => c.TimeZone).HasMaxLength(64);
        builder.Property(c => c.PausedReason).HasMaxLength(300);
        builder.HasOne<Customer>().WithMany().HasForeignKey(c => c.CustomerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
    }
}
