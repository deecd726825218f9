using Microsoft.Data.Sqlite;
using Npgsql;

namespace WapBridge.Core.Persistence;

public static class DatabaseErrors
{
    private const int SqliteTooBig = 18;
    private const int SqliteConstraint = 19;
    private const int SqliteMismatch = 20;
    private const int SqliteForeignKeyConstraint = 787;
    private const int SqliteConstraintTrigger = 1811;
    private const int SqliteUniqueConstraint = 2067;

    /// <summary>
    /// A write referred to a row that another request deleted meanwhile (a foreign key violation), on either provider:
    /// a race with a delete, not a bug.
    /// </summary>
    public static bool IsMissingReference(Exception error) => AnyInChain(error, e =>
        e is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: SqliteForeignKeyConstraint }
            or PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation });

    /// <summary>The row is already there: a unique index refused a second copy, on either provider.</summary>
    public static bool IsUniqueViolation(Exception error) => AnyInChain(error, e =>
        e is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: SqliteUniqueConstraint }
            or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation });

    /// <summary>
    /// PostgreSQL gave up one of two transactions that waited on each other (a deadlock) or could not serialise it:
    /// running it again succeeds, as the other one has finished by then.
    /// </summary>
    public static bool IsRetryableConflict(Exception error) => AnyInChain(error, e =>
        e is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure });

    /// <summary>
    /// The database refused the data itself (PostgreSQL's data exceptions and integrity violations, SQLite's
    /// constraints): the same write fails the same way however often it is tried.
    /// </summary>
    public static bool IsPermanentDataError(Exception error) => AnyInChain(error, e =>
        e is PostgresException { SqlState: var state } && (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal))
        // A trigger's RAISE is the operator's policy (it may be lifted), not a property of the data.
        || e is SqliteException { SqliteErrorCode: SqliteConstraint or SqliteTooBig or SqliteMismatch } sqlite
            && sqlite.SqliteExtendedErrorCode != SqliteConstraintTrigger);

    /// <summary>A database or I/O failure that may pass (the server away, busy or locked), not refused data and not a bug.</summary>
    public static bool IsWorthRetrying(Exception error) =>
        !IsPermanentDataError(error) && AnyInChain(error, e =>
            e is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException or IOException or TimeoutException);

    private static bool AnyInChain(Exception error, Func<Exception, bool> matches)
    {
        for (var e = error; e is not null; e = e.InnerException)
            if (matches(e))
                return true;
        return false;
    }
}
