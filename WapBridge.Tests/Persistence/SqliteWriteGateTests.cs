using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Persistence;

namespace WapBridge.Tests.Persistence;

/// <summary>The process-wide queue for SQLite's one writer must give its place back however a writer ends.</summary>
public sealed class SqliteWriteGateTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "gate-" + Guid.NewGuid().ToString("N"));
    private ServiceProvider _services = null!;

    public async ValueTask InitializeAsync()
    {
        _services = new ServiceCollection().AddLogging().AddWapBridgeDatabase(new DatabaseOptions(), _dir).BuildServiceProvider();
        await DatabaseMigrator.MigrateAsync(Factory, NullLogger.Instance);
    }

    private IDbContextFactory<WapBridgeDbContext> Factory => _services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();

    [Fact]
    public async Task A_transaction_whose_caller_gave_up_waiting_for_the_writer_does_not_keep_it()
    {
        // A request aborted while its transaction waited for the writer used to leave its pooled connection open, and
        // the next transaction on that connection then kept the writer for good: every other writer waited.
        for (var attempt = 0; attempt < 30; attempt++)
        {
            await using var first = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            var holding = await first.Database.BeginTransactionAsync(TestContext.Current.CancellationToken);
            using var abandon = new CancellationTokenSource();
            var second = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            var waiting = second.Database.BeginTransactionAsync(abandon.Token);
            await Task.Delay(10, TestContext.Current.CancellationToken);
            // Given up while waiting for its turn, or just as its turn came.
            if (attempt % 2 == 0)
                abandon.Cancel();
            await holding.CommitAsync(TestContext.Current.CancellationToken);
            abandon.Cancel();
            try
            {
                await (await waiting).DisposeAsync();
            }
            catch (OperationCanceledException)
            {
            }
            // As a request does: its context goes back to the pool.
            await second.DisposeAsync();

            await using var third = await Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            var next = third.Database.BeginTransactionAsync(TestContext.Current.CancellationToken);
            Assert.True(await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)) == next,
                $"attempt {attempt}: the next writer is still waiting: the abandoned one kept the writer");
            await (await next).DisposeAsync();
            await holding.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
