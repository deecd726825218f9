using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace WapBridge.Core.Persistence;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="WapBridgeDbContext"/> (scoped) and <see cref="IDbContextFactory{WapBridgeDbContext}"/>
    /// (for hosted services and Blazor components) on the configured provider. Contexts are pooled: a new context
    /// rebuilt its options key and EF's internal services on every creation, which was a fifth of everything the
    /// send path allocated at 2,000 messages a second.
    /// </summary>
    public static IServiceCollection AddWapBridgeDatabase(this IServiceCollection services, DatabaseOptions options, string dataDir)
    {
        var connectionString = options.ResolveConnectionString(dataDir);
        switch (options.ParsedProvider)
        {
            case DatabaseProvider.Sqlite:
                Directory.CreateDirectory(dataDir);
                services.AddPooledDbContextFactory<SqliteWapBridgeDbContext>(o => ConfigureSqlite(o, connectionString));
                services.AddSingleton<IDbContextFactory<WapBridgeDbContext>, ProviderDbContextFactory<SqliteWapBridgeDbContext>>();
                break;
            case DatabaseProvider.Postgres:
                services.AddPooledDbContextFactory<PostgresWapBridgeDbContext>(o => ConfigurePostgres(o, connectionString));
                services.AddSingleton<IDbContextFactory<WapBridgeDbContext>, ProviderDbContextFactory<PostgresWapBridgeDbContext>>();
                break;
        }
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContext());
        return services;
    }

    internal static void ConfigureSqlite(DbContextOptionsBuilder builder, string connectionString)
    {
        // A writer waits for the lock instead of failing at once: SQLite has one writer at a time.
        var csb = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30, Pooling = true };
        builder.UseSqlite(csb.ConnectionString, o => o.MigrationsHistoryTable("__EFMigrationsHistory").UseParameterizedCollectionMode(CollectionMode))
            .AddInterceptors(new SqliteConnectionTuning(), new SqliteWriteGate(csb.DataSource));
    }

    internal static void ConfigurePostgres(DbContextOptionsBuilder builder, string connectionString) =>
        builder.UseNpgsql(connectionString, o => o.UseParameterizedCollectionMode(CollectionMode));

    // `ids.Contains(x)` as one array parameter (json_each on SQLite, = ANY on PostgreSQL). EF's default, one parameter
    // per element, gives every batch size its own SQL, which EF then generates again on each execution: in the outbox,
    // receipt and campaign loops that was the largest single share of everything allocated.
    private const ParameterTranslationMode CollectionMode = ParameterTranslationMode.Parameter;

    /// <summary>Lets services ask for the abstract context whatever the provider.</summary>
    private sealed class ProviderDbContextFactory<TContext>(IDbContextFactory<TContext> inner)
        : IDbContextFactory<WapBridgeDbContext> where TContext : WapBridgeDbContext
    {
        public WapBridgeDbContext CreateDbContext() => inner.CreateDbContext();
    }
}
