using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace WapBridge.Core.Persistence;

/// <summary>
/// SQLite has one writer at a time. Left alone, concurrent writers collide and the loser sleeps inside
/// SQLite (up to 100 ms at a time) or in Microsoft.Data.Sqlite's retry loop (150 ms). This interceptor
/// queues this process's writers in order instead: a transaction, or a write statement outside one,
/// holds the gate until it commits, rolls back or its connection closes. Readers never wait (WAL).
/// </summary>
internal sealed class SqliteWriteGate : DbConnectionInterceptor, IDbTransactionInterceptor, IDbCommandInterceptor
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _gate;
    private readonly ConditionalWeakTable<DbConnection, Holder> _holders = new();

    private sealed class Holder
    {
        public bool Held;
    }

    public SqliteWriteGate(string databaseFile) => _gate = Gates.GetOrAdd(Path.GetFullPath(databaseFile), _ => new SemaphoreSlim(1, 1));

    /// <summary>True when this call took the gate (false: the connection already held it).</summary>
    private async ValueTask<bool> AcquireAsync(DbConnection connection, CancellationToken ct)
    {
        var holder = _holders.GetValue(connection, _ => new Holder());
        if (holder.Held) return false;
        await _gate.WaitAsync(ct);
        holder.Held = true;
        return true;
    }

    private bool Acquire(DbConnection connection)
    {
        var holder = _holders.GetValue(connection, _ => new Holder());
        if (holder.Held) return false;
        _gate.Wait();
        holder.Held = true;
        return true;
    }

    private void Release(DbConnection? connection)
    {
        if (connection is not null && _holders.TryGetValue(connection, out var holder) && holder.Held)
        {
            holder.Held = false;
            _gate.Release();
        }
    }

    private static bool IsWrite(DbCommand command)
    {
        if (command.Transaction is not null) return false;
        var sql = command.CommandText.AsSpan().TrimStart();
        return sql.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase) || sql.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
            || sql.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase) || sql.StartsWith("REPLACE", StringComparison.OrdinalIgnoreCase)
            || sql.StartsWith("WITH", StringComparison.OrdinalIgnoreCase) && sql.Contains("UPDATE", StringComparison.OrdinalIgnoreCase);
    }

    // Transactions: held from begin to commit / rollback / failure, or until the connection closes. The transaction is
    // begun here, and neither the wait nor the begin heeds the caller's token: EF has opened the connection by now, and
    // when starting a transaction fails it leaves that connection open in its pooled context, which then never closes,
    // so the gate it took next would never come back (every other writer waited for good). A cancelled caller stops
    // at its next statement instead, inside the transaction, whose end gives the gate back.
    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken ct = default)
    {
        if (result.HasResult)
            return result;
        var acquired = await AcquireAsync(connection, CancellationToken.None);
        try
        {
            return InterceptionResult<DbTransaction>.SuppressWithResult(Track(await connection.BeginTransactionAsync(eventData.IsolationLevel, CancellationToken.None), connection));
        }
        catch
        {
            if (acquired) Release(connection);
            throw;
        }
    }

    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        if (result.HasResult)
            return result;
        var acquired = Acquire(connection);
        try
        {
            return InterceptionResult<DbTransaction>.SuppressWithResult(Track(connection.BeginTransaction(eventData.IsolationLevel), connection));
        }
        catch
        {
            if (acquired) Release(connection);
            throw;
        }
    }

    // A finished SqliteTransaction no longer knows its connection: remember it, so the end of the transaction gives the gate
    // back itself instead of waiting for the connection to close.
    private readonly ConditionalWeakTable<DbTransaction, DbConnection> _connections = new();

    private DbTransaction Track(DbTransaction transaction, DbConnection connection)
    {
        _connections.AddOrUpdate(transaction, connection);
        return transaction;
    }

    private DbConnection? ConnectionOf(DbTransaction transaction) =>
        _connections.TryGetValue(transaction, out var connection) ? connection : transaction.Connection;

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Release(ConnectionOf(transaction));
    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken ct = default)
    {
        TransactionCommitted(transaction, eventData);
        return Task.CompletedTask;
    }
    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Release(ConnectionOf(transaction));
    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken ct = default)
    {
        TransactionRolledBack(transaction, eventData);
        return Task.CompletedTask;
    }
    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Release(ConnectionOf(transaction));
    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken ct = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    // A write statement outside a transaction: held while it runs (readers: until the reader closes).
    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        if (IsWrite(command)) await AcquireAsync(command.Connection!, ct);
        return result;
    }
    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (IsWrite(command)) Acquire(command.Connection!);
        return result;
    }
    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken ct = default)
    {
        if (command.Transaction is null) Release(command.Connection);
        return ValueTask.FromResult(result);
    }
    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        if (command.Transaction is null) Release(command.Connection);
        return result;
    }
    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken ct = default)
    {
        if (IsWrite(command)) await AcquireAsync(command.Connection!, ct);
        return result;
    }
    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (IsWrite(command)) Acquire(command.Connection!);
        return result;
    }
    public InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        if (command.Transaction is null) Release(command.Connection);
        return result;
    }
    public ValueTask<InterceptionResult> DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        if (command.Transaction is null) Release(command.Connection);
        return ValueTask.FromResult(result);
    }
    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        if (command.Transaction is null) Release(command.Connection);
        return result;
    }
    public async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken ct = default)
    {
        if (IsWrite(command)) await AcquireAsync(command.Connection!, ct);
        return result;
    }
    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken ct = default)
    {
        if (command.Transaction is null) Release(command.Connection);
        return ValueTask.FromResult(result);
    }
    public void CommandFailed(DbCommand command, CommandErrorEventData eventData)
    {
        if (command.Transaction is null) Release(command.Connection);
    }
    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken ct = default)
    {
        CommandFailed(command, eventData);
        return Task.CompletedTask;
    }

    // Whatever happened, a closing connection gives the gate back.
    public override InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        Release(connection);
        return result;
    }
    public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        Release(connection);
        return ValueTask.FromResult(result);
    }
}
