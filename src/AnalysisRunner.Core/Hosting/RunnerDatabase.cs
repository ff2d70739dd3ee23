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

    /// <summary>Left by an executor whose integrity check failed: every process then reports the database as damaged.</summary>
    public string DamagedMarkerPath => Home.DatabasePath + ".damaged";

    /// <summary>
    /// A connection in WAL mode. synchronous=NORMAL by default: a commit survives the process being
    /// killed, and the file stays consistent through an OS crash, which may lose the last commits.
    /// <paramref name="durable"/> (synchronous=FULL) makes each commit survive an OS crash too, at an
    /// fsync per commit (~3 ms here): what a client's submit, cancel or removal uses, once per command.
    /// The executor's transitions stay NORMAL: a lost one is recovered from the runner's exit ledger.
    /// </summary>
    public SqliteConnection Open(bool durable = false)
    {
        Directory.CreateDirectory(Home.Root);
        if (File.Exists(DamagedMarkerPath))
            throw new DatabaseDamagedException(Home.DatabasePath, ReadMarker());
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            connection.Open();
            using var pragma = connection.CreateCommand();
            pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(durable ? "FULL" : "NORMAL")}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=60000;";
            pragma.ExecuteNonQuery();
            return connection;
        }
        catch (SqliteException e) when (IsDamage(e))
        {
            connection.Dispose();
            throw Damaged(e);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one IMMEDIATE transaction: it all lands or none of it does, and
    /// once it returns it survives an OS crash (or, not <paramref name="durable"/>, a killed process; see Open).
    /// </summary>
    public T InTransaction<T>(Func<SqliteConnection, SqliteTransaction, T> work, bool durable = true) => Guard(() =>
    {
        using var connection = Open(durable);
        using var transaction = connection.BeginTransaction(deferred: false);
        var result = work(connection, transaction);
        transaction.Commit();
        return result;
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> WriterQueues = new();

    /// <summary>
    /// <see cref="InTransaction{T}"/> for async callers that may come many at once (a server's
    /// submissions, a burst of appends): they queue here, holding no thread, and only the one whose
    /// turn it is waits for SQLite's write lock (other processes may hold it). Fifty callers each
    /// blocked in SQLite's busy wait held every thread-pool thread, and the one holding the lock then
    /// waited past PostgreSQL's command timeout for a thread to finish its own I/O.
    /// </summary>
    public Task<T> InTransactionAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default) =>
        InTransactionAsync((connection, transaction) => Task.FromResult(work(connection, transaction)), cancellationToken);

    /// <summary>
    /// As above, for work that itself awaits (a batch stored in another database while this
    /// transaction, and SQLite's write lock, stay open: SqliteRunLog).
    /// </summary>
    public async Task<T> InTransactionAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken = default)
    {
        var queue = WriterQueues.GetOrAdd(Home.DatabasePath, _ => new SemaphoreSlim(1, 1));
        await queue.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await GuardAsync(async () =>
            {
                using var connection = Open(durable: true);
                using var transaction = connection.BeginTransaction(deferred: false);
                var result = await work(connection, transaction).ConfigureAwait(false);
                transaction.Commit();
                return result;
            }).ConfigureAwait(false);
        }
        finally
        {
            queue.Release();
        }
    }

    /// <summary>Runs a read or write of the database, reporting a damaged file as DatabaseDamaged (never as a missing row).</summary>
    public T Guard<T>(Func<T> work)
    {
        try { return work(); }
        catch (SqliteException e) when (IsDamage(e)) { throw Damaged(e); }
    }

    /// <summary><see cref="Guard{T}"/> for reads written with the async ADO methods.</summary>
    public async Task<T> GuardAsync<T>(Func<Task<T>> work)
    {
        try { return await work().ConfigureAwait(false); }
        catch (SqliteException e) when (IsDamage(e)) { throw Damaged(e); }
    }

    /// <summary>
    /// PRAGMA quick_check: null when the file is sound, else what is wrong. Run by an executor that
    /// starts after an unclean stop (it checks every page, so not on every start).
    /// </summary>
    public string? CheckIntegrity()
    {
        try
        {
            using var connection = Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA quick_check(5)";
            using var reader = check.ExecuteReader();
            var problems = new List<string>();
            while (reader.Read()) problems.Add(reader.GetString(0));
            return problems is ["ok"] ? null : string.Join("; ", problems);
        }
        catch (DatabaseDamagedException e) { return e.Message; }
        catch (SqliteException e) when (IsDamage(e)) { return e.Message; }
    }

    /// <summary>Records that the check failed, so every client reports it until someone restores or replaces the file.</summary>
    public void MarkDamaged(string detail) => File.WriteAllText(DamagedMarkerPath, detail + "\n");

    private string ReadMarker()
    {
        try { return "an executor's integrity check found: " + File.ReadAllText(DamagedMarkerPath).Trim(); }
        catch (IOException) { return "an executor's integrity check failed"; }
    }

    /// <summary>SQLITE_CORRUPT (11) and SQLITE_NOTADB (26), with their extended codes.</summary>
    private static bool IsDamage(SqliteException e) => (e.SqliteErrorCode & 0xFF) is 11 or 26;

    private DatabaseDamagedException Damaged(SqliteException e) => new(Home.DatabasePath, e.Message, e);
}
