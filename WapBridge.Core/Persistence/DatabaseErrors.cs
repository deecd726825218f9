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
}
