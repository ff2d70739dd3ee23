using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// The embedded database: one SQLite file in WAL mode, shared by every process of a runner home
/// (pwsh sessions, the executor, jobs that submit sub-batches). Each store creates its own tables
/// (CREATE TABLE IF NOT EXISTS, once per process) and takes a connection and transaction from here,
/// so one submission can write several stores in one transaction.
/// </summary>
public sealed class RunnerDatabase
{
    public RunnerDatabase(RunnerHome home)
    {
        Home = home;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = home.DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY inside this window, so concurrent
            // submitters queue up instead of being refused for a lock.
            DefaultTimeout = 60,
        }.ToString();
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> SchemasReady = new();

    public RunnerHome Home { get; }
    public string ConnectionString { get; }

    /// <summary>
    /// Runs a store's CREATE … IF NOT EXISTS once per process per database file, on its own connection
    /// (so a caller's later rollback cannot undo it). A database file deleted since is set up again.
    /// </summary>
    public void EnsureSchema(string storeName, string createTables) =>
        EnsureSchema(storeName, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = createTables;
            command.ExecuteNonQuery();
        });

    /// <summary>As above, for a step SQL alone cannot make conditional (adding a column a table may already have).</summary>
    public void EnsureSchema(string storeName, Action<SqliteConnection> setUp)
    {
        var key = storeName + "\n" + Home.DatabasePath;
        if (SchemasReady.ContainsKey(key) && File.Exists(Home.DatabasePath)) return;
        using var connection = Open();
        setUp(connection);
        SchemasReady[key] = true;
    }

    public SqliteConnection Open()
    {
        Directory.CreateDirectory(Home.Root);
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=60000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> in one IMMEDIATE transaction: it all lands or none of it does.</summary>
    public T InTransaction<T>(Func<SqliteConnection, SqliteTransaction, T> work)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var result = work(connection, transaction);
        transaction.Commit();
        return result;
    }
}
