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
/// On Npgsql's async I/O (PostgresDatabase.RunAsync, the same second try on a fresh connection): the
/// server's handlers and the run channel's service call it from the thread pool. The executor's ledger
/// over these tables (PostgresJobLedger) is too, awaited by the scheduler's loop.
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

    public Task<long> SubmitAsync(BatchSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        EnsureSchema();
        return InTransactionAsync((connection, transaction) => InsertAsync(spec, connection, transaction, cancellationToken),
            $"batch '{spec.Name}'", cancellationToken);
    }

    /// <summary>
    /// The run's first batch, made once: the one it already has, or <paramref name="spec"/> stored now.
    /// Two dispatchers of one run (a retry and a server start, two server processes) queue on a
    /// transaction-scoped advisory lock on the ar_guid, so they cannot both make one.
    /// </summary>
    internal Task<long> SubmitDriverBatchAsync(BatchSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.ArGuid);
        EnsureSchema();
        return InTransactionAsync(async (connection, transaction) =>
        {
            await using (var queue = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 4))", connection, transaction))
            {
                queue.Parameters.AddWithValue(spec.ArGuid);
                await queue.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var existing = new NpgsqlCommand("SELECT min(id) FROM batches WHERE ar_guid = $1", connection, transaction))
            {
                existing.Parameters.AddWithValue(spec.ArGuid);
                if (await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long id) return id;
            }
            return await InsertAsync(spec, connection, transaction, cancellationToken).ConfigureAwait(false);
        }, $"the driver batch of run {spec.ArGuid}", cancellationToken);
    }

    /// <summary>
    /// One transaction, retried once on a fresh connection if it failed before COMMIT (a pooled
    /// connection that died with a restart). A COMMIT that lost its answer is not retried: the batch
    /// may be stored, and a second try would store it twice. The COMMIT itself is not cancelled: once
    /// sent, whether it landed is what the caller must hear, not that it stopped waiting.
    /// </summary>
    private Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, string what,
        CancellationToken cancellationToken) => _database.RunAsync(async connection =>
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var result = await work(connection, transaction).ConfigureAwait(false);
        try
        {
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception lost) when (PostgresDatabase.IsUnavailable(lost))
        {
            throw _database.Unavailable($"went away while committing {what}, which may or may not be stored (Get-Batch tells)", lost);
        }
        return result;
    }, cancellationToken);

    internal async Task<long> InsertAsync(BatchSpec spec, NpgsqlConnection connection, NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        // A batch of a run whose driver batch (its first) was asked to cancel lands asked to cancel. The
        // driver's row is locked FOR SHARE, so a cancel of it is either committed before this reads it
        // or waits for this batch to be committed, and then finds it (RequestCancelRun lists after).
        var inherited = false;
        if (spec.ArGuid is not null)
        {
            await using var driver = new NpgsqlCommand(
                "SELECT cancel_requested FROM batches WHERE ar_guid = $1 ORDER BY id LIMIT 1 FOR SHARE", connection, transaction);
            driver.Parameters.AddWithValue(spec.ArGuid);
            inherited = await driver.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }
        long batchId;
        var batchSpec = JsonSerializer.Serialize(spec with { Jobs = [] }, SqliteBatchStore.Json);
        await using (var batch = new NpgsqlCommand("""
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
            batchId = (long)(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        // Sealed once its id is known, in the same transaction: no reader ever sees it unsealed.
        await using (var seal = new NpgsqlCommand("UPDATE batches SET seal = $1 WHERE id = $2", connection, transaction))
        {
            seal.Parameters.Add(Text(BatchRowSeal.OfBatch(_home, batchId, batchSpec)));
            seal.Parameters.AddWithValue(batchId);
            await seal.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (spec.Jobs.Count == 0) return batchId;
        // Commands are stored as they will run (placeholders resolved), so they read right before a job has started.
        var paths = new ResourcePaths(_home, batchId, spec.TmpRoot, spec.Inputs);
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> GroupsOf(int index) => spec.Jobs[index].ResourceGroups;
        // COPY: one stream for every job, so a 10,000-job fan-out is one round trip, not 10,000.
        await using var copy = await connection.BeginBinaryImportAsync("""
            COPY jobs (batch_id, job_id, name, state, attempt, max_attempts, command, parents, cpu, memory, image,
                       always_run, preemptible, attributes, spec, seal) FROM STDIN (FORMAT BINARY)
            """, cancellationToken).ConfigureAwait(false);
        foreach (var job in spec.Jobs)
        {
            var parents = SqliteBatchStore.ParentIds(job);
            await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(batchId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(SqliteBatchStore.JobId(job), NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(job.Name, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync((parents.Count == 0 ? JobState.Ready : JobState.Pending).ToString(), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(1, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(Math.Max(1, job.MaxAttempts), NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(JobCommandText.Shown(job, paths, GroupsOf), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(JsonSerializer.Serialize(parents, SqliteBatchStore.Json), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(job.Cpu, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(job.MemoryBytes, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            if (job.Image is null) await copy.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            else await copy.WriteAsync(job.Image, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(job.AlwaysRun, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(job.Preemptible, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(JsonSerializer.Serialize(job.Attributes, SqliteBatchStore.Json), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            var jobSpec = JsonSerializer.Serialize(job, SqliteBatchStore.Json);
            await copy.WriteAsync(jobSpec, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(BatchRowSeal.OfJob(_home, batchId, SqliteBatchStore.JobId(job), jobSpec), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        }
        await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return batchId;
    }

    public async Task<BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        (await FindBatchesAsync(new BatchQuery { Ids = [batchId] }, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public async Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Ids is { Count: 0 }) return [];
        EnsureSchema();
        return await _database.RunAsync(async connection =>
        {
            // One statement, so the batch rows and their job counts are one snapshot (see SqliteBatchStore.FindAsync).
            await using var command = new NpgsqlCommand { Connection = connection };
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
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var batch = Sealed(BatchRows.Batch(reader), reader.GetString(15), reader.IsDBNull(16) ? null : reader.GetString(16));
                // The column only finds candidates: a batch is the run's when its sealed spec says so.
                if (query.ArGuid is null || batch.ArGuid == query.ArGuid) batches.Add(batch);
            }
            return batches;
        }, cancellationToken).ConfigureAwait(false);
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

    public async Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) =>
        await ReadJobsAsync(batchId, null, cancellationToken).ConfigureAwait(false);

    public async Task<JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        (await ReadJobsAsync(batchId, jobId, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    private Task<List<JobInfo>> ReadJobsAsync(long batchId, int? jobId, CancellationToken cancellationToken)
    {
        EnsureSchema();
        return _database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"""
                SELECT {BatchRows.JobColumns}, (j.spec::jsonb -> 'environment')::text, b.config_path,
                       a.cpu_seconds, a.peak_memory_bytes, a.wall_seconds
                FROM jobs j JOIN batches b ON b.id = j.batch_id
                LEFT JOIN attempts a ON a.batch_id = j.batch_id AND a.job_id = j.job_id AND a.attempt = j.attempt
                WHERE j.batch_id = $1 {(jobId is null ? "" : "AND j.job_id = $2")} ORDER BY j.job_id
                """, connection);
            command.Parameters.AddWithValue(batchId);
            if (jobId is { } id) command.Parameters.AddWithValue(id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var jobs = new List<JobInfo>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) jobs.Add(BatchRows.Job(reader, _home, batchId));
            return jobs;
        }, cancellationToken);
    }

    public async Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default)
    {
        EnsureSchema();
        // Setting a flag is safe to run twice, so the second try after a lost connection is harmless.
        var found = await _database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                WITH asked AS (UPDATE batches SET cancel_requested = true WHERE id = $1 AND state = 'Running' RETURNING id)
                SELECT EXISTS (SELECT 1 FROM batches WHERE id = $1)
                """, connection);
            command.Parameters.AddWithValue(batchId);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }, cancellationToken).ConfigureAwait(false);
        if (!found)
            throw BatchStoreExtensions.NotFound(batchId);
    }

    public async Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default)
    {
        EnsureSchema();
        var attempts = await _database.RunAsync(async connection =>
        {
            // One snapshot for both reads: the job's existence and its attempts.
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken)
                .ConfigureAwait(false);
            await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM jobs WHERE batch_id = $1 AND job_id = $2)", connection, transaction))
            {
                exists.Parameters.AddWithValue(batchId);
                exists.Parameters.AddWithValue(jobId);
                if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true) return null;
            }
            await using var command = new NpgsqlCommand(
                $"SELECT {BatchRows.AttemptColumns} FROM attempts WHERE batch_id = $1 AND job_id = $2 ORDER BY attempt", connection, transaction);
            command.Parameters.AddWithValue(batchId);
            command.Parameters.AddWithValue(jobId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var found = new List<JobAttempt>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) found.Add(BatchRows.Attempt(reader, batchId, jobId));
            return found;
        }, cancellationToken).ConfigureAwait(false);
        return attempts ?? throw BatchStoreExtensions.JobNotFound(batchId, jobId);
    }

    public async Task<IReadOnlyList<JobAttempt>> GetBatchAttemptsAsync(long batchId, CancellationToken cancellationToken = default)
    {
        EnsureSchema();
        return await _database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"SELECT {BatchRows.AttemptColumns}, job_id FROM attempts WHERE batch_id = $1 ORDER BY job_id, attempt", connection);
            command.Parameters.AddWithValue(batchId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var attempts = new List<JobAttempt>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) attempts.Add(BatchRows.AttemptOfBatch(reader, batchId));
            return attempts;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(long batchId, CancellationToken cancellationToken = default)
    {
        EnsureSchema();
        // Deleting rows already deleted deletes nothing, so a retried transaction answers the same.
        var state = await InTransactionAsync(async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand("SELECT state FROM batches WHERE id = $1 FOR UPDATE", connection, transaction);
            command.Parameters.AddWithValue(batchId);
            var found = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            if (found is null || found == nameof(BatchState.Running)) return found;
            await using var delete = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("DELETE FROM attempts WHERE batch_id = $1") { Parameters = { new() { Value = batchId } } },
                    new NpgsqlBatchCommand("DELETE FROM jobs WHERE batch_id = $1") { Parameters = { new() { Value = batchId } } },
                    new NpgsqlBatchCommand("DELETE FROM batches WHERE id = $1") { Parameters = { new() { Value = batchId } } },
                },
            };
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return found;
        }, $"the removal of batch {batchId}", cancellationToken).ConfigureAwait(false);
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
