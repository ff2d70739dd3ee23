using System.Net.Sockets;
using Npgsql;

namespace AnalysisRunner.Core.Postgres;

/// <summary>
/// The server's store of record: one <see cref="NpgsqlDataSource"/> (pooled connections) from the
/// connection string in the server settings. Failures to reach PostgreSQL become
/// DatabaseUnavailable (ResourceUnavailable, 503 on the server) wherever a store meets them.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public PostgresDatabase(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new AnalysisRunnerException("DatabaseNotConfigured", ErrorKind.InvalidArgument, null,
                "No PostgreSQL connection string is set; put one in [database] connection_string of the server settings.");
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException error)
        {
            throw new AnalysisRunnerException("InvalidConnectionString", ErrorKind.InvalidArgument, null,
                $"The PostgreSQL connection string is invalid: {error.Message}");
        }
        Description = Describe(builder);
        _identity = ((builder.Host ?? "").ToLowerInvariant(), builder.Port, builder.Database ?? builder.Username ?? "");
        DataSource = NpgsqlDataSource.Create(builder);
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>How messages name a database: host, port and database, never the password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return $"PostgreSQL at {builder.Host}:{builder.Port}, database {builder.Database ?? builder.Username}";
    }

    private readonly (string Host, int Port, string Database) _identity;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<PostgresDatabase, bool> _sameAs = new();

    /// <summary>
    /// Whether both connect to one database, so one transaction can span what each store writes. Equal
    /// host, port and database name say so at once; otherwise (another spelling of the host, a socket
    /// path) PostgreSQL is asked: an advisory lock held through this one is taken through the other
    /// only if they are different databases (advisory locks are per database). Remembered once known.
    /// </summary>
    public bool IsSameDatabaseAs(PostgresDatabase other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || _identity == other._identity) return true;
        return _sameAs.GetOrAdd(other, HoldsOneLockWith);
    }

    private bool HoldsOneLockWith(PostgresDatabase other)
    {
        var key = Random.Shared.NextInt64();
        return Run(mine =>
        {
            Execute(mine, "SELECT pg_advisory_lock($1)", key);
            try
            {
                return other.Run(theirs =>
                {
                    if (Execute(theirs, "SELECT pg_try_advisory_lock($1)", key) is not true) return true;
                    Execute(theirs, "SELECT pg_advisory_unlock($1)", key);
                    return false;
                });
            }
            finally
            {
                Execute(mine, "SELECT pg_advisory_unlock($1)", key);
            }
        });

        static object? Execute(NpgsqlConnection connection, string sql, long key)
        {
            using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue(key);
            return command.ExecuteScalar();
        }
    }

    public string Description { get; }

    /// <summary>Opens a pooled connection, or throws DatabaseUnavailable.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await DataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception error) when (IsUnavailable(error))
        {
            throw Unavailable(error);
        }
    }

    /// <summary>
    /// Runs one unit of work on a pooled connection. After a failure to reach the server the pool
    /// is cleared, so connections that died with a restarted PostgreSQL are not handed out again, and
    /// work that failed (opening included) runs once more on a fresh connection: a pooled
    /// connection that died with a restart fails on its first use, and without the second try the
    /// first request after every restart would be a 503. So <paramref name="work"/> must be safe to
    /// run twice: a read, a transaction that did not commit, or an idempotent write (a commit that
    /// may have landed must not surface as a connection failure; see PostgresRunLog.AppendAsync).
    /// </summary>
    public async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
                return await work(connection);
            }
            catch (Exception error) when (IsUnavailable(error))
            {
                DataSource.Clear();
                // Open failing too gets the second try: what failed may be a pooled connection that died with
                // a restart (CI once saw "read past the end of the stream" from the first submission after
                // one). If PostgreSQL is down, the second open is refused at once as well.
                if (attempt == 1 && !cancellationToken.IsCancellationRequested) continue;
                throw Unavailable(error);
            }
        }
    }

    /// <summary>
    /// <see cref="RunAsync{T}"/> on Npgsql's synchronous I/O, with the same second try on a fresh
    /// connection (so <paramref name="work"/> must be as safe to run twice): for the batch store's
    /// synchronous interface and the executor's loop thread, which would only block on a Task anyway.
    /// </summary>
    public T Run<T>(Func<NpgsqlConnection, T> work)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var connection = DataSource.OpenConnection();
                return work(connection);
            }
            catch (Exception error) when (IsUnavailable(error))
            {
                DataSource.Clear();
                if (attempt == 1) continue;
                throw Unavailable(error);
            }
        }
    }

    /// <summary>Whether PostgreSQL answers a query now.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
        return true;
    }, cancellationToken);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    private AnalysisRunnerException Unavailable(Exception error) => Unavailable($"is not reachable: {Innermost(error).Message}", error);

    /// <summary>
    /// DatabaseUnavailable. Its message and target say which kind of database, not where it is: the
    /// server shows them to anonymous callers of /healthz. Where it is goes in Data["database"], for logs
    /// and the admin's start-up message.
    /// </summary>
    public AnalysisRunnerException Unavailable(string what, Exception? inner = null)
    {
        var error = new AnalysisRunnerException("DatabaseUnavailable", ErrorKind.ResourceUnavailable, null,
            $"PostgreSQL, the server's database, {what}. The server answers again as soon as it is back.", inner);
        error.Data["database"] = Description;
        return error;
    }

    /// <summary>
    /// Connection-level failures (refused, reset, shut down, timed out), as opposed to errors in our
    /// SQL, which must surface as themselves.
    /// </summary>
    internal static bool IsUnavailable(Exception error) => error switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
                                || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) // admin/crash shutdown, cannot connect now
                                || pg.SqlState == "53300", // too many connections
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException => true,
        _ => false,
    };

    private static Exception Innermost(Exception error)
    {
        while (error.InnerException is not null) error = error.InnerException;
        return error;
    }
}
