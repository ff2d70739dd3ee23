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

    /// <summary>Applies what is pending; returns the versions it applied (none when the schema is current).</summary>
    public async Task<IReadOnlyList<int>> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        Validate(migrations);
        await using var connection = await database.OpenAsync(cancellationToken);
        await Execute(connection, null, "SELECT pg_advisory_lock($1)", cancellationToken, LockKey);
        try
        {
            await Execute(connection, null, """
                CREATE TABLE IF NOT EXISTS schema_version (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);
            var current = await CurrentVersionAsync(connection, cancellationToken);
            var known = migrations.Count == 0 ? 0 : migrations[^1].Version;
            if (current > known)
                throw new AnalysisRunnerException("SchemaTooNew", ErrorKind.InvalidOperation, current,
                    $"{database.Description} has schema version {current}, but this server knows only up to {known}; " +
                    "run a server at least as new as the one that migrated it.");

            var applied = new List<int>();
            foreach (var migration in migrations.Where(m => m.Version > current))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, transaction, migration.Sql, cancellationToken);
                await Execute(connection, transaction, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", cancellationToken,
                    migration.Version, migration.Name);
                await transaction.CommitAsync(cancellationToken);
                applied.Add(migration.Version);
            }
            return applied;
        }
        finally
        {
            await Execute(connection, null, "SELECT pg_advisory_unlock($1)", CancellationToken.None, LockKey);
        }
    }

    /// <summary>The highest version applied, 0 for a database this server has never touched.</summary>
    public async Task<int> CurrentVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_version') IS NOT NULL", connection);
        return (bool)(await exists.ExecuteScalarAsync(cancellationToken))! ? await CurrentVersionAsync(connection, cancellationToken) : 0;
    }

    private static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static void Validate(IReadOnlyList<Migration> migrations)
    {
        for (var i = 0; i < migrations.Count; i++)
            if (migrations[i].Version != i + 1)
                throw new ArgumentException($"Migrations must be numbered 1, 2, 3… in order; entry {i} is version {migrations[i].Version}.",
                    nameof(migrations));
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
