namespace WapBridge.Tests.TestHost;

/// <summary>One shared gateway per test class on SQLite (a real file).</summary>
public sealed class SqliteApp() : WapBridgeApp("sqlite");

/// <summary>One shared gateway per test class on its own PostgreSQL database.</summary>
public sealed class PostgresApp() : WapBridgeApp("postgres");
