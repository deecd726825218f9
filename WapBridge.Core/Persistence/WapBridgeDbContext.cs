using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Contacts;
using WapBridge.Core.Groups;
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
    public DbSet<CachedGroup> CachedGroups => Set<CachedGroup>();
    public DbSet<Health.KnownContact> KnownContacts => Set<Health.KnownContact>();
    public DbSet<Engines.CloudApi.CloudApiCallback> CloudApiCallbacks => Set<Engines.CloudApi.CloudApiCallback>();
    public DbSet<Engines.CloudApi.ServiceWindow> ServiceWindows => Set<Engines.CloudApi.ServiceWindow>();
    /// <summary>The Data Protection key ring, shared by every node on the database.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<MediaBlob> MediaBlobs => Set<MediaBlob>();
    public DbSet<MediaChunk> MediaChunks => Set<MediaChunk>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // After Identity's mapping, which WapBridgeUserConfiguration extends; each entity's mapping sits next to it.
        builder.ApplyConfigurationsFromAssembly(typeof(WapBridgeDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<MessageStatus>().HaveConversion<WireNameConverter<MessageStatus>>();
        configurationBuilder.Properties<InstanceState>().HaveConversion<WireNameConverter<InstanceState>>();
        configurationBuilder.Properties<CampaignState>().HaveConversion<WireNameConverter<CampaignState>>();
        configurationBuilder.Properties<RecipientState>().HaveConversion<WireNameConverter<RecipientState>>();
        configurationBuilder.Properties<DeliveryState>().HaveConversion<WireNameConverter<DeliveryState>>();
    }
}

public sealed class SqliteWapBridgeDbContext(DbContextOptions<SqliteWapBridgeDbContext> options) : WapBridgeDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // SQLite cannot order or compare DateTimeOffset columns; a long keeps one query model for both providers.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresWapBridgeDbContext(DbContextOptions<PostgresWapBridgeDbContext> options) : WapBridgeDbContext(options);
