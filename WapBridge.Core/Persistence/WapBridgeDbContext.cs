using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Contacts;
using WapBridge.Core.Idempotency;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;

namespace WapBridge.Core.Persistence;

/// <summary>
/// The one model. Each provider has a sealed subclass so that each keeps its own migrations
/// (<see cref="SqliteWapBridgeDbContext"/>, <see cref="PostgresWapBridgeDbContext"/>); services use this type.
/// </summary>
public abstract class WapBridgeDbContext(DbContextOptions options) : IdentityDbContext<WapBridgeUser>(options), IDataProtectionKeyContext
{
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Sequence> Sequences => Set<Sequence>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<Instance> Instances => Set<Instance>();
    public DbSet<InstanceStateChange> InstanceStateChanges => Set<InstanceStateChange>();
    public DbSet<EngineAuthEntry> EngineAuthEntries => Set<EngineAuthEntry>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<CampaignRecipient> CampaignRecipients => Set<CampaignRecipient>();
    public DbSet<Suppression> Suppressions => Set<Suppression>();
    public DbSet<SentMessageContent> SentMessageContents => Set<SentMessageContent>();
    public DbSet<LidMapping> LidMappings => Set<LidMapping>();
    public DbSet<NumberCheck> NumberChecks => Set<NumberCheck>();
    /// <summary>The Data Protection key ring, shared by every node on the database.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<MediaBlob> MediaBlobs => Set<MediaBlob>();
    public DbSet<MediaChunk> MediaChunks => Set<MediaChunk>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<Customer>(e =>
        {
            e.HasIndex(c => c.Code).IsUnique();
            e.Property(c => c.Code).HasMaxLength(16);
            e.Property(c => c.Name).HasMaxLength(200);
            e.Property(c => c.Email).HasMaxLength(256);
        });

        builder.Entity<WapBridgeUser>(e =>
        {
            e.HasOne(u => u.Customer).WithMany().HasForeignKey(u => u.CustomerId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ApiKey>(e =>
        {
            e.HasIndex(k => k.Key).IsUnique();
            e.HasIndex(k => k.CustomerId);
            e.Property(k => k.Key).HasMaxLength(15);
            e.Property(k => k.SecretHint).HasMaxLength(8);
            e.Property(k => k.Label).HasMaxLength(100);
            e.HasOne(k => k.Customer).WithMany().HasForeignKey(k => k.CustomerId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Instance>(e =>
        {
            e.HasIndex(i => i.Code).IsUnique();
            e.HasIndex(i => new { i.CustomerId, i.PhoneNumber });
            e.Property(i => i.Code).HasMaxLength(20);
            e.Property(i => i.Name).HasMaxLength(100);
            e.Property(i => i.Engine).HasMaxLength(20);
            e.Property(i => i.State).HasMaxLength(20);
            e.Property(i => i.PhoneNumber).HasMaxLength(20);
            e.Property(i => i.PushName).HasMaxLength(100);
            e.Property(i => i.DefaultCountry).HasMaxLength(2);
            e.Property(i => i.NodeId).HasMaxLength(8);
            e.Property(i => i.SessionNode).HasMaxLength(8);
            e.Property(i => i.LastError).HasMaxLength(500);
            e.Property(i => i.RestrictionDetail).HasMaxLength(500);
            e.HasOne<Customer>().WithMany().HasForeignKey(i => i.CustomerId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<InstanceStateChange>(e =>
        {
            e.HasIndex(c => new { c.InstanceId, c.At });
            e.Property(c => c.State).HasMaxLength(20);
            e.Property(c => c.Reason).HasMaxLength(500);
            e.Property(c => c.NodeId).HasMaxLength(8);
            e.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<EngineAuthEntry>(e =>
        {
            e.HasIndex(a => new { a.InstanceId, a.Category, a.KeyId }).IsUnique();
            e.Property(a => a.Category).HasMaxLength(40);
            e.Property(a => a.KeyId).HasMaxLength(200);
            e.HasOne<Instance>().WithMany().HasForeignKey(a => a.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<MediaBlob>(e =>
        {
            e.HasKey(b => b.Hash);
            e.Property(b => b.Hash).HasMaxLength(64);
            e.HasIndex(b => b.StoredAt);
        });

        builder.Entity<MediaChunk>(e =>
        {
            e.HasKey(c => new { c.Hash, c.Index });
            e.Property(c => c.Hash).HasMaxLength(64);
            e.HasOne<MediaBlob>().WithMany().HasForeignKey(c => c.Hash).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Message>(e =>
        {
            e.HasIndex(m => m.SerializedId);
            e.HasIndex(m => new { m.InstanceId, m.WaMessageId });
            // The outbox query: an instance's queued and sending messages in priority order.
            e.HasIndex(m => new { m.InstanceId, m.Status, m.Priority, m.Id });
            e.HasIndex(m => new { m.CustomerId, m.Id });
            e.HasIndex(m => new { m.Status, m.ExpiresAt });
            // The Chats page: an instance's conversations and each one's newest messages.
            e.HasIndex(m => new { m.InstanceId, m.Chat, m.Id });
            e.Property(m => m.Direction).HasMaxLength(10);
            e.Property(m => m.WaMessageId).HasMaxLength(64);
            e.Property(m => m.SerializedId).HasMaxLength(200);
            e.Property(m => m.HoldReason).HasMaxLength(32);
            e.Property(m => m.FromNumber).HasMaxLength(64);
            e.Property(m => m.ToNumber).HasMaxLength(64);
            e.Property(m => m.SenderName).HasMaxLength(100);
            e.Property(m => m.Chat).HasMaxLength(64);
            e.Property(m => m.QuotedId).HasMaxLength(64);
            e.Property(m => m.Mentions).HasMaxLength(2000);
            e.Property(m => m.TargetId).HasMaxLength(64);
            e.Property(m => m.Type).HasMaxLength(20);
            e.Property(m => m.Filename).HasMaxLength(255);
            e.Property(m => m.MimeType).HasMaxLength(100);
            e.Property(m => m.MediaHash).HasMaxLength(64);
            e.Property(m => m.Status).HasMaxLength(12);
            e.Property(m => m.Error).HasMaxLength(500);
            e.Property(m => m.ErrorCode).HasMaxLength(40);
            e.Property(m => m.Source).HasMaxLength(12);
            e.HasOne<Instance>().WithMany().HasForeignKey(m => m.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WebhookEndpoint>(e =>
        {
            e.HasIndex(w => new { w.CustomerId, w.InstanceId }).IsUnique();
            e.Property(w => w.Url).HasMaxLength(2000);
            e.Property(w => w.Events).HasMaxLength(1000);
            e.Property(w => w.DisabledReason).HasMaxLength(300);
            e.Ignore(w => w.EventList);
            e.Ignore(w => w.IsRemoved);
            e.HasOne<Customer>().WithMany().HasForeignKey(w => w.CustomerId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Instance>().WithMany().HasForeignKey(w => w.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WebhookDelivery>(e =>
        {
            // The dispatcher's query: pending deliveries by due time.
            e.HasIndex(d => new { d.State, d.NextAttemptAt });
            e.HasIndex(d => new { d.CustomerId, d.Id });
            e.Property(d => d.EventId).HasMaxLength(40);
            e.Property(d => d.EventType).HasMaxLength(30);
            e.Property(d => d.State).HasMaxLength(12);
            e.Property(d => d.LastResponse).HasMaxLength(500);
            e.Property(d => d.LastError).HasMaxLength(500);
            e.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(d => d.EndpointId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Campaign>(e =>
        {
            e.HasIndex(c => c.Code).IsUnique();
            e.HasIndex(c => new { c.CustomerId, c.Id });
            e.HasIndex(c => new { c.InstanceId, c.State });
            e.Property(c => c.Code).HasMaxLength(20);
            e.Property(c => c.Name).HasMaxLength(140);
            e.Property(c => c.State).HasMaxLength(12);
            e.Property(c => c.MediaHash).HasMaxLength(64);
            e.Property(c => c.MimeType).HasMaxLength(100);
            e.Property(c => c.Filename).HasMaxLength(255);
            e.Property(c => c.ActiveFrom).HasMaxLength(5);
            e.Property(c => c.ActiveUntil).HasMaxLength(5);
            e.Property(c => c.TimeZone).HasMaxLength(64);
            e.Property(c => c.PausedReason).HasMaxLength(300);
            e.HasOne<Customer>().WithMany().HasForeignKey(c => c.CustomerId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<CampaignRecipient>(e =>
        {
            // The runner's query: a campaign's next recipient by state and insertion order.
            e.HasIndex(r => new { r.CampaignId, r.State, r.Id });
            e.HasIndex(r => new { r.CampaignId, r.Number });
            e.HasIndex(r => r.MessageId);
            e.Property(r => r.RawInput).HasMaxLength(200);
            e.Property(r => r.Number).HasMaxLength(20);
            e.Property(r => r.State).HasMaxLength(12);
            e.Property(r => r.Error).HasMaxLength(300);
            e.HasOne<Campaign>().WithMany().HasForeignKey(r => r.CampaignId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Suppression>(e =>
        {
            e.HasIndex(s => new { s.CustomerId, s.Number }).IsUnique();
            e.Property(s => s.Number).HasMaxLength(20);
            e.Property(s => s.Reason).HasMaxLength(100);
            e.HasOne<Customer>().WithMany().HasForeignKey(s => s.CustomerId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SentMessageContent>(e =>
        {
            e.HasIndex(c => new { c.InstanceId, c.WaMessageId });
            e.HasIndex(c => c.CreatedAt);
            e.Property(c => c.WaMessageId).HasMaxLength(64);
            e.Property(c => c.RemoteJid).HasMaxLength(128);
            e.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<LidMapping>(e =>
        {
            e.HasIndex(m => new { m.InstanceId, m.Lid }).IsUnique();
            e.HasIndex(m => new { m.InstanceId, m.PhoneNumber });
            e.Property(m => m.Lid).HasMaxLength(32);
            e.Property(m => m.PhoneNumber).HasMaxLength(20);
            e.HasOne<Instance>().WithMany().HasForeignKey(m => m.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<NumberCheck>(e =>
        {
            e.HasIndex(c => new { c.InstanceId, c.Number }).IsUnique();
            e.Property(c => c.Number).HasMaxLength(20);
            e.Property(c => c.Jid).HasMaxLength(64);
            e.Property(c => c.Lid).HasMaxLength(32);
            e.HasOne<Instance>().WithMany().HasForeignKey(c => c.InstanceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Sequence>(e =>
        {
            e.HasKey(s => s.Name);
            e.Property(s => s.Name).HasMaxLength(64);
        });

        builder.Entity<IdempotencyRecord>(e =>
        {
            e.HasIndex(r => new { r.Scope, r.Key }).IsUnique();
            e.HasIndex(r => r.CreatedAt);
            e.Property(r => r.Scope).HasMaxLength(64);
            e.Property(r => r.Key).HasMaxLength(255);
            e.Property(r => r.RequestHash).HasMaxLength(64);
        });
    }
}

public sealed class SqliteWapBridgeDbContext(DbContextOptions<SqliteWapBridgeDbContext> options) : WapBridgeDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset columns; a long keeps one query model for both providers.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresWapBridgeDbContext(DbContextOptions<PostgresWapBridgeDbContext> options) : WapBridgeDbContext(options);
