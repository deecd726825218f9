namespace WapBridge.Core.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Section <c>WapBridge:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "WapBridge:Database";

    /// <summary><c>sqlite</c> (default, a file under the data folder) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Required for PostgreSQL; for SQLite it defaults to <c>&lt;DataDir&gt;/wapbridge.db</c>.</summary>
    public string? ConnectionString { get; set; }

    public DatabaseProvider ParsedProvider => Provider.Trim().ToLowerInvariant() switch
    {
        "sqlite" => DatabaseProvider.Sqlite,
        "postgres" or "postgresql" or "npgsql" => DatabaseProvider.Postgres,
        _ => throw new InvalidOperationException(
            $"WapBridge:Database:Provider '{Provider}' is not supported; use 'sqlite' or 'postgres' (WAPBRIDGE_Database__Provider)."),
    };

    public string ResolveConnectionString(string dataDir) => ParsedProvider switch
    {
        DatabaseProvider.Sqlite => string.IsNullOrWhiteSpace(ConnectionString)
            ? $"Data Source={Path.Combine(dataDir, "wapbridge.db")}"
            : ConnectionString,
        _ => string.IsNullOrWhiteSpace(ConnectionString)
            ? throw new InvalidOperationException(
                "WapBridge:Database:ConnectionString is required for PostgreSQL (WAPBRIDGE_Database__ConnectionString), e.g. 'Host=127.0.0.1;Database=wapbridge;Username=wapbridge;Password=…'.")
            : ConnectionString,
    };
}
