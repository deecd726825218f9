using Npgsql;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// A throw-away PostgreSQL database for one test host. The server comes from
/// <c>TEST_POSTGRES_CONNECTION</c> (set by scripts/test.sh); without it PostgreSQL tests skip,
/// unless <c>TEST_REQUIRE_POSTGRES=1</c> (CI), which makes them fail instead.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string ServerVariable = "TEST_POSTGRES_CONNECTION";
    public const string RequireVariable = "TEST_REQUIRE_POSTGRES";

    private readonly string _adminConnection;

    public string Name { get; }
    public string ConnectionString { get; }

    private PostgresDatabase(string adminConnection, string name)
    {
        _adminConnection = adminConnection;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnection) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Null when no server is configured and it is not required.</summary>
    public static string? ServerConnection()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(server) && Environment.GetEnvironmentVariable(RequireVariable) == "1")
            throw new InvalidOperationException($"{RequireVariable}=1 but {ServerVariable} is not set: PostgreSQL tests cannot run.");
        return string.IsNullOrWhiteSpace(server) ? null : server;
    }

    public static PostgresDatabase Create(string serverConnection)
    {
        var name = "wapbridge_test_" + Guid.NewGuid().ToString("N")[..12];
        using var connection = new NpgsqlConnection(serverConnection);
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        command.ExecuteNonQuery();
        return new PostgresDatabase(serverConnection, name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
