using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace WapBridge.Core.Persistence;

// Used only by `dotnet ef migrations add`; the connection strings are never opened.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteWapBridgeDbContext>
{
    public SqliteWapBridgeDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<SqliteWapBridgeDbContext>();
        DatabaseServiceCollectionExtensions.ConfigureSqlite(builder, "Data Source=design.db");
        return new SqliteWapBridgeDbContext(builder.Options);
    }
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresWapBridgeDbContext>
{
    public PostgresWapBridgeDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<PostgresWapBridgeDbContext>();
        DatabaseServiceCollectionExtensions.ConfigurePostgres(builder, "Host=localhost;Database=design");
        return new PostgresWapBridgeDbContext(builder.Options);
    }
}
