using Npgsql;

namespace AnalysisRunner.Core.Postgres;

/// <summary>
/// Brings a PostgreSQL database up to a list of migrations. Each pending migration runs in its own
/// transaction together with its schema_version row, so a failed one leaves neither. Servers
/// starting at once take turns on an advisory lock, so each migration is applied exactly once and
/// a second start applies nothing.
/// </summary>
public sealed class SchemaMigrator(PostgresDatabase database)
{
    // Any fixed number, the same for every server of this schema: pg_advisory_lock's key.
    private const long LockKey = 0x4152_5345_5256_4552; // "ARSERVER"

    /// <summary>
    /// Applies what is pending; returns the versions it applied (none when the schema is current).
    /// One implementation, on Npgsql's synchronous I/O (<see cref="Apply(IReadOnlyList{Migration}, CancellationToken)"/>):
    /// the batch store migrates on first use from synchronous code, where blocking on an async
    /// migrator would need a free thread-pool thread. Here it runs on a thread of its own.
    /// </summary>
    public Task<IReadOnlyList<int>> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        Validate(migrations);
        return Task.Factory.StartNew(() => Apply(migrations, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary><see cref="ApplyAsync"/> on the caller's thread.</summary>
    public IReadOnlyList<int> Apply(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        Validate(migrations);
        // Safe to run again on a fresh connection (Run's second try): the session's advisory lock ends
        // with a dead connection, and the pending migrations are read again under the lock.
        return database.Run(connection => Apply(connection, migrations, cancellationToken));
    }

    private IReadOnlyList<int> Apply(NpgsqlConnection connection, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        Execute(connection, null, "SELECT pg_advisory_lock($1)", cancellationToken, LockKey);
        try
        {
            Execute(connection, null, """
                CREATE TABLE IF NOT EXISTS schema_version (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);
            var current = CurrentVersion(connection, cancellationToken);
            var known = migrations.Count == 0 ? 0 : migrations[^1].Version;
            if (current > known)
                throw new AnalysisRunnerException("SchemaTooNew", ErrorKind.InvalidOperation, current,
                    $"{database.Description} has schema version {current}, but this server knows only up to {known}; " +
                    "run a server at least as new as the one that migrated it.");

            var applied = new List<int>();
            foreach (var migration in migrations.Where(m => m.Version > current))
            {
                using var transaction = connection.BeginTransaction();
                Execute(connection, transaction, migration.Sql, cancellationToken);
                Execute(connection, transaction, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", cancellationToken,
                    migration.Version, migration.Name);
                transaction.Commit();
                applied.Add(migration.Version);
            }
            return applied;
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open)
                Execute(connection, null, "SELECT pg_advisory_unlock($1)", CancellationToken.None, LockKey);
        }
    }

    /// <summary>
    /// The highest version applied, 0 for a database this server has never touched: one query when the
    /// schema is there (the batch store asks on its first use in each process).
    /// </summary>
    public int CurrentVersion() => database.Run(connection =>
    {
        try
        {
            return CurrentVersion(connection, CancellationToken.None);
        }
        catch (PostgresException missing) when (missing.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    });

    private static int CurrentVersion(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection);
        using var cancel = cancellationToken.Register(command.Cancel);
        return (int)command.ExecuteScalar()!;
    }

    private static void Validate(IReadOnlyList<Migration> migrations)
    {
        for (var i = 0; i < migrations.Count; i++)
            if (migrations[i].Version != i + 1)
                throw new ArgumentException($"Migrations must be numbered 1, 2, 3… in order; entry {i} is version {migrations[i].Version}.",
                    nameof(migrations));
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params object[] parameters)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
        using var cancel = cancellationToken.Register(command.Cancel);
        command.ExecuteNonQuery();
    }
}
