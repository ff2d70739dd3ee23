using System.Globalization;
using System.Text.Json;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Batches and jobs in PostgreSQL (migration 4 of <see cref="ServerSchema"/>), for a runner home whose
/// settings name a database for them ([batches] database): the same rows as SqliteBatchStore (a batch
/// row with its spec minus the jobs, one row per job, one per attempt), the same rules, one contract
/// suite. Counters are counted from the job rows when read. Logs and work folders stay in the home.
/// <para>
/// Synchronous like the interface, on Npgsql's synchronous I/O (PostgresDatabase.Run): its callers
/// (cmdlets, the executor's loop, the server's handlers through the same interface) are synchronous today.
/// </para>
/// </summary>
public sealed class PostgresBatchStore : IBatchStore
{
    private readonly PostgresDatabase _database;
    private readonly RunnerHome _home;

    public PostgresBatchStore(PostgresDatabase database, RunnerHome home)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
        _home = home ?? throw new ArgumentNullException(nameof(home));
    }

    internal PostgresDatabase Database => _database;

    /// <summary>The home whose key seals these rows (BatchRowSeal) and the runs they belong to.</summary>
    internal RunnerHome Home => _home;

    /// <summary>The executor's ledger over these tables, after making sure they exist.</summary>
    internal Execution.IJobLedger OpenLedger()
    {
        EnsureSchema();
        return new Execution.PostgresJobLedger(_database, _home);
    }

    /// <summary>Databases whose schema this process has seen current, whichever store instance looked.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<PostgresDatabase, bool> SchemaReady = new();
    private static readonly object MigrationGate = new();

    /// <summary>
    /// Applies the schema's pending migrations once per process, on first use: a home used without a
    /// server (which migrates on start) still finds its tables. Not in the constructor, so opening a
    /// home does not need PostgreSQL to be up. A current schema is seen with one synchronous query;
    /// only a database behind the code is migrated, by one thread at a time (others wait here, not in
    /// PostgreSQL on its advisory lock), with synchronous I/O on the caller's thread: blocking on an
    /// async migrator needs free thread-pool threads, and a burst of first submissions, each blocked
    /// on SQLite's write lock, held them all until a command timed out.
    /// </summary>
    internal void EnsureSchema()
    {
        if (SchemaReady.ContainsKey(_database)) return;
        lock (MigrationGate)
        {
            if (SchemaReady.ContainsKey(_database)) return;
            var migrator = new SchemaMigrator(_database);
            if (migrator.CurrentVersion() < ServerSchema.Migrations[^1].Version) migrator.Apply(ServerSchema.Migrations);
            ContinueAfterHomeBatches();
            SchemaReady[_database] = true;
        }
    }

    /// <summary>
    /// Batch ids continue after the highest batch folder the home already has (logs/&lt;id&gt;, from its
    /// SQLite days or another database), so a home switched to PostgreSQL never hands out an id whose
    /// logs and work folders exist. Only ever raises the sequence, and only while it is behind.
    /// </summary>
    private void ContinueAfterHomeBatches()
    {
        var highest = Directory.Exists(_home.LogsDirectory)
            ? Directory.EnumerateDirectories(_home.LogsDirectory)
                .Select(folder => long.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0)
                .DefaultIfEmpty(0).Max()
            : 0;
        if (highest == 0) return;
        _database.Run(connection =>
        {
            using var command = new NpgsqlCommand(
                "SELECT setval('batches_id_seq', $1) WHERE (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM batches_id_seq) < $1",
                connection);
            command.Parameters.AddWithValue(highest);
            return command.ExecuteScalar();
        });
    }

    /// <summary>Drops what this process remembers of a database that is being closed.</summary>
    internal static void Forget(PostgresDatabase database) => SchemaReady.TryRemove(database, out _);

    public long Submit(BatchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        EnsureSchema();
        return InTransaction((connection, transaction) => Insert(spec, connection, transaction), $"batch '{spec.Name}'");
    }

    /// <summary>
    /// The run's first batch, made once: the one it already has, or <paramref name="spec"/> stored now.
    /// Two dispatchers of one run (a retry and a server start, two server processes) queue on a
    /// transaction-scoped advisory lock on the ar_guid, so they cannot both make one.
    /// </summary>
    internal long SubmitDriverBatch(BatchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.ArGuid);
        EnsureSchema();
        return InTransaction((connection, transaction) =>
        {
            using (var queue = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 4))", connection, transaction))
            {
                queue.Parameters.AddWithValue(spec.ArGuid);
                queue.ExecuteNonQuery();
            }
            using (var existing = new NpgsqlCommand("SELECT min(id) FROM batches WHERE ar_guid = $1", connection, transaction))
            {
                existing.Parameters.AddWithValue(spec.ArGuid);
                if (existing.ExecuteScalar() is long id) return id;
            }
            return Insert(spec, connection, transaction);
        }, $"the driver batch of run {spec.ArGuid}");
    }

    /// <summary>
    /// One transaction, retried once on a fresh connection if it failed before COMMIT (a pooled
    /// connection that died with a restart). A COMMIT that lost its answer is not retried: the batch
    /// may be stored, and a second try would store it twice.
    /// </summary>
    private T InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> work, string what) => _database.Run(connection =>
    {
        using var transaction = connection.BeginTransaction();
        var result = work(connection, transaction);
        try
        {
            transaction.Commit();
        }
        catch (Exception lost) when (PostgresDatabase.IsUnavailable(lost))
        {
            throw _database.Unavailable($"went away while committing {what}, which may or may not be stored (Get-Batch tells)", lost);
        }
        return result;
    });

    internal long Insert(BatchSpec spec, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var now = DateTime.UtcNow;
        // A batch of a run whose driver batch (its first) was asked to cancel lands asked to cancel. The
        // driver's row is locked FOR SHARE, so a cancel of it is either committed before this reads it
        // or waits for this batch to be committed, and then finds it (RequestCancelRun lists after).
        var inherited = false;
        if (spec.ArGuid is not null)
        {
            using var driver = new NpgsqlCommand(
                "SELECT cancel_requested FROM batches WHERE ar_guid = $1 ORDER BY id LIMIT 1 FOR SHARE", connection, transaction);
            driver.Parameters.AddWithValue(spec.ArGuid);
            inherited = driver.ExecuteScalar() is true;
        }
        long batchId;
        var batchSpec = JsonSerializer.Serialize(spec with { Jobs = [] }, SqliteBatchStore.Json);
        using (var batch = new NpgsqlCommand("""
            INSERT INTO batches (name, ar_guid, attributes, config_path, tmp_root, spec, state, cancel_requested, created, completed, total_jobs)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
            """, connection, transaction))
        {
            var empty = spec.Jobs.Count == 0;
            batch.Parameters.Add(Text(spec.Name));
            batch.Parameters.Add(Text(spec.ArGuid));
            batch.Parameters.Add(Text(JsonSerializer.Serialize(spec.Attributes, SqliteBatchStore.Json)));
            batch.Parameters.Add(Text(spec.ConfigPath));
            batch.Parameters.Add(Text(spec.TmpRoot));
            batch.Parameters.Add(Text(batchSpec));
            // A batch without jobs has nothing left to do: it is complete as it lands.
            batch.Parameters.Add(Text((empty ? BatchState.Succeeded : BatchState.Running).ToString()));
            batch.Parameters.Add(new NpgsqlParameter { Value = inherited, NpgsqlDbType = NpgsqlDbType.Boolean });
            batch.Parameters.Add(Time(now));
            batch.Parameters.Add(Time(empty ? now : null));
            batch.Parameters.Add(new NpgsqlParameter { Value = spec.Jobs.Count, NpgsqlDbType = NpgsqlDbType.Integer });
            batchId = (long)batch.ExecuteScalar()!;
        }
        // Sealed once its id is known, in the same transaction: no reader ever sees it unsealed.
        using (var seal = new NpgsqlCommand("UPDATE batches SET seal = $1 WHERE id = $2", connection, transaction))
        {
            seal.Parameters.Add(Text(BatchRowSeal.OfBatch(_home, batchId, batchSpec)));
            seal.Parameters.AddWithValue(batchId);
            seal.ExecuteNonQuery();
        }
        if (spec.Jobs.Count == 0) return batchId;
        // Commands are stored as they will run (placeholders resolved), so they read right before a job has started.
        var paths = new ResourcePaths(_home, batchId, spec.TmpRoot, spec.Inputs);
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> GroupsOf(int index) => spec.Jobs[index].ResourceGroups;
        // COPY: one stream for every job, so a 10,000-job fan-out is one round trip, not 10,000.
        using var copy = connection.BeginBinaryImport("""
            COPY jobs (batch_id, job_id, name, state, attempt, max_attempts, command, parents, cpu, memory, image,
                       always_run, preemptible, attributes, spec, seal) FROM STDIN (FORMAT BINARY)
            """);
        foreach (var job in spec.Jobs)
        {
            var parents = SqliteBatchStore.ParentIds(job);
            copy.StartRow();
            copy.Write(batchId, NpgsqlDbType.Bigint);
            copy.Write(SqliteBatchStore.JobId(job), NpgsqlDbType.Integer);
            copy.Write(job.Name, NpgsqlDbType.Text);
            copy.Write((parents.Count == 0 ? JobState.Ready : JobState.Pending).ToString(), NpgsqlDbType.Text);
            copy.Write(1, NpgsqlDbType.Integer);
            copy.Write(Math.Max(1, job.MaxAttempts), NpgsqlDbType.Integer);
            copy.Write(JobCommandText.Shown(job, paths, GroupsOf), NpgsqlDbType.Text);
            copy.Write(JsonSerializer.Serialize(parents, SqliteBatchStore.Json), NpgsqlDbType.Text);
            copy.Write(job.Cpu, NpgsqlDbType.Double);
            copy.Write(job.MemoryBytes, NpgsqlDbType.Bigint);
            if (job.Image is null) copy.WriteNull();
            else copy.Write(job.Image, NpgsqlDbType.Text);
            copy.Write(job.AlwaysRun, NpgsqlDbType.Boolean);
            copy.Write(job.Preemptible, NpgsqlDbType.Boolean);
            copy.Write(JsonSerializer.Serialize(job.Attributes, SqliteBatchStore.Json), NpgsqlDbType.Text);
            var jobSpec = JsonSerializer.Serialize(job, SqliteBatchStore.Json);
            copy.Write(jobSpec, NpgsqlDbType.Text);
            copy.Write(BatchRowSeal.OfJob(_home, batchId, SqliteBatchStore.JobId(job), jobSpec), NpgsqlDbType.Text);
        }
        copy.Complete();
        return batchId;
    }

    public BatchInfo? GetBatch(long batchId) => FindBatches(new BatchQuery { Ids = [batchId] }).FirstOrDefault();

    public IReadOnlyList<BatchInfo> FindBatches(BatchQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Ids is { Count: 0 }) return [];
        EnsureSchema();
        return _database.Run(connection =>
        {
            // One statement, so the batch rows and their job counts are one snapshot (see SqliteBatchStore.Find).
            using var command = new NpgsqlCommand { Connection = connection };
            var where = new List<string>();
            if (query.ArGuid is not null)
            {
                command.Parameters.Add(Text(query.ArGuid));
                where.Add($"ar_guid = ${command.Parameters.Count}");
            }
            if (query.State is { } state)
            {
                command.Parameters.Add(Text(state.ToString()));
                where.Add($"state = ${command.Parameters.Count}");
            }
            if (query.Ids is { } ids)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                where.Add($"id = ANY(${command.Parameters.Count})");
            }
            if (query.BeforeId is { } before)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = before, NpgsqlDbType = NpgsqlDbType.Bigint });
                where.Add($"id < ${command.Parameters.Count}");
            }
            command.CommandText = $"""
                SELECT {BatchRows.BatchColumns},
                       count(j.job_id) FILTER (WHERE j.state IN ('Pending', 'Ready')), count(j.job_id) FILTER (WHERE j.state = 'Running'),
                       count(j.job_id) FILTER (WHERE j.state = 'Succeeded'), count(j.job_id) FILTER (WHERE j.state = 'Failed'),
                       count(j.job_id) FILTER (WHERE j.state = 'Cancelled'), b.spec, b.seal
                FROM (SELECT * FROM batches {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
                      ORDER BY id DESC {(query.First is { } first ? "LIMIT " + Math.Max(0, first).ToString(CultureInfo.InvariantCulture) : "")}) AS b
                LEFT JOIN jobs j ON j.batch_id = b.id
                GROUP BY b.id, b.name, b.ar_guid, b.attributes, b.state, b.total_jobs, b.cancel_requested, b.created, b.completed, b.config_path,
                         b.spec, b.seal
                ORDER BY b.id DESC
                """;
            var batches = new List<BatchInfo>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var batch = Sealed(BatchRows.Batch(reader), reader.GetString(15), reader.IsDBNull(16) ? null : reader.GetString(16));
                // The column only finds candidates: a batch is the run's when its sealed spec says so.
                if (query.ArGuid is null || batch.ArGuid == query.ArGuid) batches.Add(batch);
            }
            return batches;
        });
    }

    /// <summary>
    /// A batch as its sealed spec says whose it is. Whoever reaches the database (a job sharing the host's
    /// network, with trust auth) can rewrite the ar_guid, attributes, name and config_path columns, and the
    /// readers that decide who may see, wait on or cancel a batch (the server's pages and endpoints, a job's
    /// run channel, a run's cancel, a run token's expiry) go by BatchInfo.ArGuid and the author attribute:
    /// a batch of another dataset re-pointed at the caller's own run would be the caller's. So those come
    /// from the spec the runner sealed (BatchRowSeal); a row without that seal (forged, or written before
    /// migration 5) is listed as belonging to no run and no author, which no caller may act on.
    /// </summary>
    private BatchInfo Sealed(BatchInfo row, string spec, string? seal)
    {
        if (seal is null || !BatchRowSeal.Holds(BatchRowSeal.OfBatch(_home, row.Id, spec), seal))
            return row with { ArGuid = null, Attributes = new Dictionary<string, string>(), ConfigPath = null };
        var stored = JsonSerializer.Deserialize<BatchSpec>(spec, SqliteBatchStore.Json)!;
        return row with { Name = stored.Name, ArGuid = stored.ArGuid, Attributes = stored.Attributes, ConfigPath = stored.ConfigPath };
    }

    public IReadOnlyList<JobInfo> GetJobs(long batchId) => ReadJobs(batchId, null);

    public JobInfo? GetJob(long batchId, int jobId) => ReadJobs(batchId, jobId).FirstOrDefault();

    private List<JobInfo> ReadJobs(long batchId, int? jobId)
    {
        EnsureSchema();
        return _database.Run(connection =>
        {
            using var command = new NpgsqlCommand($"""
                SELECT {BatchRows.JobColumns}, (j.spec::jsonb -> 'environment')::text, b.config_path,
                       a.cpu_seconds, a.peak_memory_bytes, a.wall_seconds
                FROM jobs j JOIN batches b ON b.id = j.batch_id
                LEFT JOIN attempts a ON a.batch_id = j.batch_id AND a.job_id = j.job_id AND a.attempt = j.attempt
                WHERE j.batch_id = $1 {(jobId is null ? "" : "AND j.job_id = $2")} ORDER BY j.job_id
                """, connection);
            command.Parameters.AddWithValue(batchId);
            if (jobId is { } id) command.Parameters.AddWithValue(id);
            using var reader = command.ExecuteReader();
            var jobs = new List<JobInfo>();
            while (reader.Read()) jobs.Add(BatchRows.Job(reader, _home, batchId));
            return jobs;
        });
    }

    public void RequestCancel(long batchId)
    {
        EnsureSchema();
        // Setting a flag is safe to run twice, so the second try after a lost connection is harmless.
        var found = _database.Run(connection =>
        {
            using var command = new NpgsqlCommand("""
                WITH asked AS (UPDATE batches SET cancel_requested = true WHERE id = $1 AND state = 'Running' RETURNING id)
                SELECT EXISTS (SELECT 1 FROM batches WHERE id = $1)
                """, connection);
            command.Parameters.AddWithValue(batchId);
            return command.ExecuteScalar() is true;
        });
        if (!found)
            throw BatchStoreExtensions.NotFound(batchId);
    }

    public IReadOnlyList<JobAttempt> GetAttempts(long batchId, int jobId)
    {
        EnsureSchema();
        var attempts = _database.Run(connection =>
        {
            // One snapshot for both reads: the job's existence and its attempts.
            using var transaction = connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
            using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM jobs WHERE batch_id = $1 AND job_id = $2)", connection, transaction))
            {
                exists.Parameters.AddWithValue(batchId);
                exists.Parameters.AddWithValue(jobId);
                if (exists.ExecuteScalar() is not true) return null;
            }
            using var command = new NpgsqlCommand(
                $"SELECT {BatchRows.AttemptColumns} FROM attempts WHERE batch_id = $1 AND job_id = $2 ORDER BY attempt", connection, transaction);
            command.Parameters.AddWithValue(batchId);
            command.Parameters.AddWithValue(jobId);
            using var reader = command.ExecuteReader();
            var found = new List<JobAttempt>();
            while (reader.Read()) found.Add(BatchRows.Attempt(reader, batchId, jobId));
            return found;
        });
        return attempts ?? throw BatchStoreExtensions.JobNotFound(batchId, jobId);
    }

    public void Remove(long batchId)
    {
        EnsureSchema();
        // Deleting rows already deleted deletes nothing, so a retried transaction answers the same.
        var state = InTransaction((connection, transaction) =>
        {
            using var command = new NpgsqlCommand("SELECT state FROM batches WHERE id = $1 FOR UPDATE", connection, transaction);
            command.Parameters.AddWithValue(batchId);
            var found = command.ExecuteScalar() as string;
            if (found is null || found == nameof(BatchState.Running)) return found;
            using var delete = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("DELETE FROM attempts WHERE batch_id = $1") { Parameters = { new() { Value = batchId } } },
                    new NpgsqlBatchCommand("DELETE FROM jobs WHERE batch_id = $1") { Parameters = { new() { Value = batchId } } },
                    new NpgsqlBatchCommand("DELETE FROM batches WHERE id = $1") { Parameters = { new() { Value = batchId } } },
                },
            };
            delete.ExecuteNonQuery();
            return found;
        }, $"the removal of batch {batchId}");
        BatchFiles.RemoveAfterRows(_home, batchId, state);
    }

    /// <summary>
    /// The entry hashes the server's log (audit_log, in this same database) holds for these runs:
    /// what a home's copies of them must match (Test-AnalysisLog, AuditLogCheck).
    /// </summary>
    internal IReadOnlyDictionary<string, string> ServerEntryHashes(IReadOnlyList<string> arGuids)
    {
        ArgumentNullException.ThrowIfNull(arGuids);
        if (arGuids.Count == 0) return new Dictionary<string, string>();
        EnsureSchema();
        return _database.Run(connection =>
        {
            using var command = new NpgsqlCommand("SELECT ar_guid, entry_hash FROM audit_log WHERE ar_guid = ANY($1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = arGuids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            using var reader = command.ExecuteReader();
            var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
            while (reader.Read()) hashes[reader.GetString(0)] = reader.GetString(1);
            return hashes;
        });
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    internal static NpgsqlParameter Time(DateTime? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
