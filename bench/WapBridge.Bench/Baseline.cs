using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WapBridge.Bench;

/// <summary>
/// The scale baseline: a bare minimal-API endpoint on Kestrel (loopback, in the benchmark process) that takes the
/// same JSON body, does one SQLite INSERT in its own transaction (WAL file, Microsoft.Data.Sqlite, pooled
/// connections) and answers in the gateway's shape. No auth, validation, EF Core or outbox.
/// </summary>
public sealed class Baseline : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dir;

    public Uri SendUrl { get; }
    public string DatabasePath { get; }

    private Baseline(WebApplication app, string dir, string databasePath, Uri sendUrl)
    {
        _app = app;
        _dir = dir;
        DatabasePath = databasePath;
        SendUrl = sendUrl;
    }

    /// <param name="serializeWrites">
    /// True (default): writers take an in-process async lock before BEGIN, the usual way to use SQLite's single writer.
    /// False: writers race for the database lock; Microsoft.Data.Sqlite then answers SQLITE_BUSY by Thread.Sleep(150)
    /// and retrying, which is what the gateway's concurrent EF Core writers do.
    /// </param>
    public static async Task<Baseline> StartAsync(bool serializeWrites)
    {
        var writeLock = new SemaphoreSlim(1, 1);
        var dir = Path.Combine(Path.GetTempPath(), "wapbridge-bench", "baseline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var databasePath = Path.Combine(dir, "baseline.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = true, DefaultTimeout = 30 }.ToString();
        await using (var setup = new SqliteConnection(connectionString))
        {
            await setup.OpenAsync();
            await using var cmd = setup.CreateCommand();
            cmd.CommandText = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE Messages (
                    Id INTEGER PRIMARY KEY AUTOINCREMENT,
                    SerializedId TEXT NOT NULL,
                    InstanceId TEXT NOT NULL,
                    ToNumber TEXT NOT NULL,
                    Body TEXT,
                    Status TEXT NOT NULL,
                    CreatedAt TEXT NOT NULL);
                CREATE INDEX IX_Messages_SerializedId ON Messages (SerializedId);
                CREATE INDEX IX_Messages_Status ON Messages (InstanceId, Status, Id);
                """;
            await cmd.ExecuteNonQueryAsync();
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/send", async (HttpContext http) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            var root = doc.RootElement;
            var instance = root.GetProperty("instance_id").GetString() ?? "";
            var to = root.GetProperty("to_number").GetString() ?? "";
            var text = root.GetProperty("message").GetString();
            var waId = Guid.NewGuid().ToString("N")[..20].ToUpperInvariant();
            var id = $"true_{to}@c.us_{waId}";

            if (serializeWrites)
                await writeLock.WaitAsync(http.RequestAborted);
            try
            {
                await using var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync(http.RequestAborted);
                await using var tx = connection.BeginTransaction();
                await using var insert = connection.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO Messages (SerializedId, InstanceId, ToNumber, Body, Status, CreatedAt) VALUES ($id, $instance, $to, $body, 'queued', $at)";
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$instance", instance);
                insert.Parameters.AddWithValue("$to", to);
                insert.Parameters.AddWithValue("$body", (object?)text ?? DBNull.Value);
                insert.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O"));
                await insert.ExecuteNonQueryAsync(http.RequestAborted);
                await tx.CommitAsync(http.RequestAborted);
            }
            finally
            {
                if (serializeWrites)
                    writeLock.Release();
            }
            http.Response.ContentType = "application/json; charset=utf-8";
            await http.Response.WriteAsync($$$"""{"message":{"ok":true,"id":"{{{id}}}","status":"queued","instance_id":"{{{instance}}}","to":"{{{to}}}"}}""");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Baseline(app, dir, databasePath, new Uri(new Uri(address.Replace("[::]", "127.0.0.1")), "/send"));
    }

    public long CountRows()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM Messages";
        return (long)cmd.ExecuteScalar()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
