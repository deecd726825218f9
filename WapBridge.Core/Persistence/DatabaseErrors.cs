using Microsoft.Data.Sqlite;
using Npgsql;

namespace WapBridge.Core.Persistence;

public static class DatabaseErrors
{
    private const int SqliteConstraint = 19;
    private const int SqliteForeignKeyConstraint = 787;

    /// <summary>
    /// A write referred to a row that another request deleted meanwhile (a foreign key violation), on either provider:
    /// a race with a delete, not a bug.
    /// </summary>
    public static bool IsMissingReference(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: SqliteForeignKeyConstraint }
                or PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation })
                return true;
        }
        return false;
    }

    /// <summary>
    /// PostgreSQL gave up one of two transactions that waited on each other (a deadlock) or could not serialise it:
    /// running it again succeeds, as the other one has finished by then.
    /// </summary>
    public static bool IsRetryableConflict(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
                return true;
        }
        return false;
    }

    /// <summary>
    /// The database refused the data itself (PostgreSQL's data exceptions and integrity violations, SQLite's
    /// constraints): the same write fails the same way however often it is tried.
    /// </summary>
    public static bool IsPermanentDataError(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: var state } && (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal)))
                return true;
            // A trigger's RAISE is the operator's policy (it may be lifted), not a property of the data.
            if (e is SqliteException { SqliteErrorCode: SqliteConstraint or SqliteTooBig or SqliteMismatch } sqlite
                && sqlite.SqliteExtendedErrorCode != SqliteConstraintTrigger)
                return true;
        }
        return false;
    }

    private const int SqliteTooBig = 18;
    private const int SqliteConstraintTrigger = 1811;
    private const int SqliteMismatch = 20;

    /// <summary>A database or I/O failure that may pass (the server away, busy or locked), not refused data and not a bug.</summary>
    public static bool IsWorthRetrying(Exception error)
    {
        if (IsPermanentDataError(error))
            return false;
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException or IOException or TimeoutException)
                return true;
        }
        return false;
    }
}
