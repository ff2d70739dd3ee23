using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The audit log in the runner home's SQLite database: one row per accepted run, never updated.
/// Timestamps are unix milliseconds (sortable, indexable) plus the offset in minutes, so a
/// DateTimeOffset comes back as it went in, to the millisecond. Lists, dictionaries and config
/// snapshots are JSON. Every filter Get-AnalysisLog offers is served by an index that also yields
/// newest-first order, so -First 20 reads about 20 rows however long the log is.
/// </summary>
public sealed class SqliteAuditLog : IAuditLog, ILoggedRuns
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS audit_log (
            id INTEGER PRIMARY KEY,
            ar_guid TEXT NOT NULL,
            timestamp_ms INTEGER NOT NULL,
            timestamp_offset_minutes INTEGER NOT NULL,
            user TEXT NOT NULL,
            dataset TEXT NOT NULL,
            access_level TEXT NOT NULL,
            repository TEXT,
            commit_sha TEXT,
            cwd TEXT,
            script TEXT NOT NULL,
            script_arguments TEXT NOT NULL,
            description TEXT NOT NULL,
            output_prefix TEXT NOT NULL,
            output_dir TEXT NOT NULL,
            config_path TEXT NOT NULL,
            driver_batch_id INTEGER NOT NULL,
            image TEXT,
            cpu REAL,
            memory TEXT,
            storage TEXT,
            preemptible INTEGER NOT NULL,
            environment TEXT NOT NULL,
            config_files TEXT NOT NULL,
            config_snapshots TEXT NOT NULL,
            skip_repo_checkout INTEGER NOT NULL,
            rerun_of TEXT,
            prev_hash TEXT,
            entry_hash TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS audit_log_ar_guid ON audit_log (ar_guid);
        CREATE INDEX IF NOT EXISTS audit_log_timestamp ON audit_log (timestamp_ms);
        CREATE INDEX IF NOT EXISTS audit_log_dataset_timestamp ON audit_log (dataset, timestamp_ms);
        CREATE INDEX IF NOT EXISTS audit_log_user_timestamp ON audit_log (user, timestamp_ms);
        CREATE INDEX IF NOT EXISTS audit_log_dataset_user_timestamp ON audit_log (dataset, user, timestamp_ms);
        """;

    private const string Columns =
        "ar_guid, timestamp_ms, timestamp_offset_minutes, user, dataset, access_level, repository, commit_sha, cwd, " +
        "script, script_arguments, description, output_prefix, output_dir, config_path, driver_batch_id, image, cpu, " +
        "memory, storage, preemptible, environment, config_files, config_snapshots, skip_repo_checkout, rerun_of, prev_hash, entry_hash";

    private readonly RunnerDatabase _db;

    /// <summary>Creates the table on first use of this database file in this process (on its own connection, so call it outside a transaction).</summary>
    public SqliteAuditLog(RunnerDatabase db)
    {
        _db = db;
        db.EnsureSchema("audit_log", Schema);
        db.EnsureSchema("audit_log_chain", AddChainColumns);
        db.EnsureSchema("audit_log_copies", AddCopyColumn);
    }

    /// <summary>A log made before the chain gains its columns; its earlier rows stay unhashed, which Test-AnalysisLog reports.</summary>
    private static void AddChainColumns(SqliteConnection connection) =>
        AddColumns(connection, "entry_hash", "ALTER TABLE audit_log ADD COLUMN prev_hash TEXT; ALTER TABLE audit_log ADD COLUMN entry_hash TEXT;");

    /// <summary>Marks the entries Replicate copies from another store's chain, so this file's chain is only its own entries.</summary>
    private static void AddCopyColumn(SqliteConnection connection) =>
        AddColumns(connection, "copy", "ALTER TABLE audit_log ADD COLUMN copy INTEGER NOT NULL DEFAULT 0;");

    /// <summary>
    /// Adds columns an older log lacks, in one write transaction: two processes opening the same old
    /// home at once (a cmdlet and the executor) must not both try, and the second fail on a duplicate.
    /// </summary>
    private static void AddColumns(SqliteConnection connection, string probe, string alter)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var columns = connection.CreateCommand();
        columns.Transaction = transaction;
        columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('audit_log') WHERE name = $name";
        columns.Parameters.AddWithValue("$name", probe);
        if (Convert.ToInt64(columns.ExecuteScalar()) > 0) return;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = alter;
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>
    /// Appends inside the caller's transaction, so the row lands with the run's config and driver batch
    /// or not at all (SqliteRunLog). Reads the newest entry's hash in that transaction and chains the new
    /// one to it (AuditChain.EntryHash); returns the run as stored, hashes included.
    /// </summary>
    public RunRecord Append(RunRecord run, DbConnection connection, DbTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(run);
        string previous;
        using (var last = connection.CreateCommand())
        {
            last.Transaction = transaction;
            last.CommandText = "SELECT entry_hash FROM audit_log WHERE copy = 0 ORDER BY id DESC LIMIT 1";
            previous = last.ExecuteScalar() switch
            {
                null => AuditChain.Genesis,
                DBNull => AuditChain.Genesis,
                var hash => (string)hash,
            };
        }
        // Hashed as it will read back: the timestamp the log keeps is milliseconds.
        run = run with
        {
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(run.Timestamp.ToUnixTimeMilliseconds()).ToOffset(run.Timestamp.Offset),
            PreviousHash = previous,
            EntryHash = null,
        };
        run = run with { EntryHash = AuditChain.EntryHash(previous, run) };
        Insert(run, copy: false, connection, transaction);
        return run;
    }

    /// <summary>
    /// Copies an entry of another store of record (the server's PostgreSQL log) as it is, hashes and
    /// all, so the executor finds the run of a batch it was handed (BatchScope) and its entry verifies
    /// (AuditChain.CheckEntry). Its links are that store's chain, not this file's: it is marked a copy,
    /// and neither this file's chain (ReadChain) nor its next append links to it.
    /// </summary>
    internal void Replicate(RunRecord run, DbConnection connection, DbTransaction transaction) =>
        Insert(run, copy: true, connection, transaction);

    private static void Insert(RunRecord run, bool copy, DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var names = Columns.Split(", ");
        command.CommandText = $"INSERT INTO audit_log ({Columns}, copy) VALUES ({string.Join(", ", names.Select(name => "$" + name))}, {(copy ? 1 : 0)})";
        object?[] values =
        [
            run.ArGuid, run.Timestamp.ToUnixTimeMilliseconds(), (int)run.Timestamp.Offset.TotalMinutes, run.User, run.Dataset,
            run.AccessLevel.ToConfigName(), run.Repository, run.Commit, run.Cwd,
            run.Script, Json(run.ScriptArguments), run.Description, run.OutputPrefix, run.OutputDir, run.ConfigPath,
            run.DriverBatchId, run.Image, run.Cpu,
            run.Memory, run.Storage, run.Preemptible, Json(run.Environment), Json(run.ConfigFiles), Json(run.ConfigSnapshots),
            run.SkipRepoCheckout, run.RerunOf, run.PreviousHash, run.EntryHash,
        ];
        for (var i = 0; i < names.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "$" + names[i];
            parameter.Value = values[i] ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        try
        {
            command.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
        {
            throw Duplicate(run.ArGuid, e);
        }
    }

    /// <summary>
    /// Refuses, before anything is written elsewhere, a run this log already holds: what Append would
    /// refuse, asked first by a caller whose driver batch goes to another database (PostgreSQL) ahead
    /// of the audit row, so a duplicate leaves no batch behind there.
    /// </summary>
    internal static void RefuseLogged(string arGuid, SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM audit_log WHERE ar_guid = $ar_guid";
        command.Parameters.AddWithValue("$ar_guid", arGuid);
        if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0) throw Duplicate(arGuid, null);
    }

    private static AnalysisRunnerException Duplicate(string arGuid, Exception? inner) =>
        new("DuplicateRun", ErrorKind.InvalidOperation, arGuid, $"The audit log already holds run {arGuid}; each run gets a new ar_guid.", inner);

    /// <summary>Any entry of the ar_guid, own or copied: the executor's authority on a home whose batches are here too.</summary>
    public RunRecord? Find(string arGuid) => Query(new LogQuery { ArGuid = arGuid, First = 1 }).FirstOrDefault();

    /// <summary>
    /// The ar_guid's entry only if this home logged it itself (not a copy of another store's entry): on
    /// a home whose batches are in PostgreSQL that database holds the server's entries, so a copy here
    /// is authority for nothing (PostgresLoggedRuns).
    /// </summary>
    internal RunRecord? FindOwn(string arGuid)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM audit_log WHERE ar_guid = $ar_guid AND copy = 0";
        command.Parameters.AddWithValue("$ar_guid", arGuid);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    /// <summary>This file's own entries, oldest first: the chain its appends link.</summary>
    public IEnumerable<RunRecord> ReadChain() => ReadAll(copies: false);

    /// <summary>The entries copied from another store of record (Replicate), oldest first: each verifies on its own.</summary>
    public IEnumerable<RunRecord> ReadCopies() => ReadAll(copies: true);

    private IEnumerable<RunRecord> ReadAll(bool copies)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM audit_log WHERE copy = {(copies ? 1 : 0)} ORDER BY id";
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return Read(reader);
    }

    public IEnumerable<RunRecord> Query(LogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.First is < 0)
            throw new AnalysisRunnerException("InvalidFirst", ErrorKind.InvalidArgument, query.First,
                $"-First must be 0 or more, not {query.First}.");
        // Checked here, not in the iterator, so a bad query fails when asked rather than when read.
        return Stream(query);
    }

    /// <summary>The SQL and parameters a query runs; internal so a test can ask SQLite how it plans it.</summary>
    internal static (string Sql, IReadOnlyList<KeyValuePair<string, object>> Parameters) BuildSql(LogQuery query)
    {
        var conditions = new List<string>();
        var parameters = new List<KeyValuePair<string, object>>();
        void Filter(string condition, string name, object? value)
        {
            if (value is null) return;
            conditions.Add(condition);
            parameters.Add(new(name, value));
        }
        Filter("dataset = $dataset", "$dataset", query.Dataset);
        Filter("user = $user", "$user", query.User);
        Filter("access_level = $access_level", "$access_level", query.AccessLevel?.ToConfigName());
        Filter("ar_guid = $ar_guid", "$ar_guid", query.ArGuid);
        Filter("timestamp_ms >= $after", "$after", query.After?.ToUnixTimeMilliseconds());
        Filter("timestamp_ms < $before", "$before", query.Before?.ToUnixTimeMilliseconds());
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        // Without statistics SQLite may pick the user index for dataset + user + a date range and then
        // filter by dataset row by row; the three-column index answers that exactly, so name it.
        var table = query is { Dataset: not null, User: not null, ArGuid: null }
            ? "audit_log INDEXED BY audit_log_dataset_user_timestamp"
            : "audit_log";
        var sql = $"SELECT {Columns} FROM {table}{where} ORDER BY timestamp_ms DESC, id DESC";
        if (query.First is { } first)
        {
            sql += " LIMIT $first";
            parameters.Add(new("$first", first));
        }
        return (sql, parameters);
    }

    private IEnumerable<RunRecord> Stream(LogQuery query)
    {
        var (sql, parameters) = BuildSql(query);
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return Read(reader);
    }

    private static RunRecord Read(SqliteDataReader row)
    {
        var offset = TimeSpan.FromMinutes(row.GetInt32(2));
        return new RunRecord
        {
            ArGuid = row.GetString(0),
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(1)).ToOffset(offset),
            User = row.GetString(3),
            Dataset = row.GetString(4),
            AccessLevel = AccessLevelNames.Parse(row.GetString(5)),
            Repository = Text(row, 6),
            Commit = Text(row, 7),
            Cwd = Text(row, 8),
            Script = row.GetString(9),
            ScriptArguments = FromJson<List<string>>(row, 10),
            Description = row.GetString(11),
            OutputPrefix = row.GetString(12),
            OutputDir = row.GetString(13),
            ConfigPath = row.GetString(14),
            DriverBatchId = row.GetInt64(15),
            Image = Text(row, 16),
            Cpu = row.IsDBNull(17) ? null : row.GetDouble(17),
            Memory = Text(row, 18),
            Storage = Text(row, 19),
            Preemptible = row.GetBoolean(20),
            Environment = FromJson<Dictionary<string, string>>(row, 21),
            ConfigFiles = FromJson<List<string>>(row, 22),
            ConfigSnapshots = FromJson<List<ConfigSnapshot>>(row, 23),
            SkipRepoCheckout = row.GetBoolean(24),
            RerunOf = Text(row, 25),
            PreviousHash = Text(row, 26),
            EntryHash = Text(row, 27),
        };
    }

    private static string? Text(SqliteDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    private static T FromJson<T>(SqliteDataReader row, int ordinal) where T : new() =>
        JsonSerializer.Deserialize<T>(row.GetString(ordinal)) ?? new T();
}
