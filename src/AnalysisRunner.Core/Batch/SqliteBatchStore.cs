using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AnalysisRunner.Core.Hosting;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Batches and jobs in the runner database. One row per batch (its spec without the jobs, its state,
/// whether a cancel was asked for) and one row per job (its spec, its state, the attempt, the parents).
/// Counters are counted from the job rows when read, so they can never drift from them.
/// </summary>
public sealed class SqliteBatchStore : IBatchStore
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS batches (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            ar_guid TEXT,
            attributes TEXT NOT NULL,
            config_path TEXT,
            tmp_root TEXT NOT NULL,
            spec TEXT NOT NULL,
            state TEXT NOT NULL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL,
            completed TEXT,
            total_jobs INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS batches_ar_guid ON batches(ar_guid);
        CREATE INDEX IF NOT EXISTS batches_state ON batches(state);
        CREATE TABLE IF NOT EXISTS jobs (
            batch_id INTEGER NOT NULL REFERENCES batches(id),
            job_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            exit_code INTEGER,
            started TEXT,
            ended TEXT,
            command TEXT NOT NULL,
            parents TEXT NOT NULL,
            reason TEXT,
            cpu REAL NOT NULL,
            memory INTEGER NOT NULL,
            image TEXT,
            always_run INTEGER NOT NULL,
            preemptible INTEGER NOT NULL,
            attributes TEXT NOT NULL,
            spec TEXT NOT NULL,
            PRIMARY KEY (batch_id, job_id));
        CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state) WHERE state = 'Running';
        CREATE TABLE IF NOT EXISTS attempts (
            batch_id INTEGER NOT NULL,
            job_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            started TEXT,
            ended TEXT,
            exit_code INTEGER,
            reason TEXT,
            log TEXT,
            PRIMARY KEY (batch_id, job_id, attempt));
        """;

    /// <summary>Web defaults, the generated serializers first, reflection for anything they were not made for.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(BatchJson.Default, new DefaultJsonTypeInfoResolver()),
    };
    private readonly RunnerDatabase _db;

    public SqliteBatchStore(RunnerDatabase db)
    {
        _db = db;
        EnsureSchema(db);
    }

    internal static void EnsureSchema(RunnerDatabase db)
    {
        db.EnsureSchema("batches", Schema);
        db.EnsureSchema("attempts_usage", AddUsageColumns);
    }

    /// <summary>
    /// Schema version 2 of the batch tables: each attempt's measured usage (cpu-seconds, peak memory,
    /// wall seconds; null where the runner could not measure it). A database made before gains the
    /// columns once, in one transaction that also sets PRAGMA user_version; its earlier attempts keep nulls.
    /// </summary>
    internal const int UsageSchemaVersion = 2;

    private static void AddUsageColumns(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('attempts') WHERE name = 'cpu_seconds'";
        if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            command.CommandText = """
                ALTER TABLE attempts ADD COLUMN cpu_seconds REAL;
                ALTER TABLE attempts ADD COLUMN peak_memory_bytes INTEGER;
                ALTER TABLE attempts ADD COLUMN wall_seconds REAL;
                """;
            command.ExecuteNonQuery();
        }
        command.CommandText = "PRAGMA user_version";
        if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) < UsageSchemaVersion)
        {
            command.CommandText = $"PRAGMA user_version = {UsageSchemaVersion}";
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <remarks>
    /// Writes queue in the process (RunnerDatabase.InTransactionAsync) holding no thread, so a burst of
    /// submissions from the server does not hold pool threads in SQLite's busy wait.
    /// </remarks>
    public Task<long> SubmitAsync(BatchSpec spec, CancellationToken cancellationToken = default) =>
        _db.InTransactionAsync((connection, transaction) => Submit(spec, connection, transaction), cancellationToken);

    /// <summary>
    /// As SubmitAsync, inside a SQLite transaction the caller owns, so a run's audit row and its driver
    /// batch land together (SqliteRunLog, HomeDriverBatches): this backend's own, not the interface's.
    /// </summary>
    public long Submit(BatchSpec spec, SqliteConnection connection, SqliteTransaction transaction)
    {
        var now = Timestamp(DateTimeOffset.UtcNow);
        using var batch = connection.CreateCommand();
        batch.Transaction = transaction;
        batch.CommandText = """
            INSERT INTO batches (name, ar_guid, attributes, config_path, tmp_root, spec, state, created, completed, total_jobs, cancel_requested)
            VALUES (@name, @guid, @attributes, @config, @tmp, @spec, @state, @created, @completed, @total,
                    coalesce((SELECT cancel_requested FROM batches WHERE ar_guid = @guid ORDER BY id LIMIT 1), 0))
            RETURNING id
            """;
        Add(batch, "@name", spec.Name);
        Add(batch, "@guid", spec.ArGuid);
        Add(batch, "@attributes", JsonSerializer.Serialize(spec.Attributes, Json));
        Add(batch, "@config", spec.ConfigPath);
        Add(batch, "@tmp", spec.TmpRoot);
        Add(batch, "@spec", JsonSerializer.Serialize(spec with { Jobs = [] }, Json));
        // A batch without jobs has nothing left to do: it is complete as it lands.
        Add(batch, "@state", (spec.Jobs.Count == 0 ? BatchState.Succeeded : BatchState.Running).ToString());
        Add(batch, "@created", now);
        Add(batch, "@completed", spec.Jobs.Count == 0 ? now : null);
        Add(batch, "@total", spec.Jobs.Count);
        var batchId = Convert.ToInt64(batch.ExecuteScalar(), CultureInfo.InvariantCulture);

        using var job = connection.CreateCommand();
        job.Transaction = transaction;
        job.CommandText = """
            INSERT INTO jobs (batch_id, job_id, name, state, attempt, max_attempts, command, parents, cpu, memory, image,
                              always_run, preemptible, attributes, spec)
            VALUES (@batch, @job, @name, @state, 1, @max, @command, @parents, @cpu, @memory, @image, @always, @preemptible, @attributes, @spec)
            """;
        var parameters = new[] { "@batch", "@job", "@name", "@state", "@max", "@command", "@parents", "@cpu", "@memory", "@image", "@always", "@preemptible", "@attributes", "@spec" }
            .Select(name => Add(job, name, null)).ToArray();
        job.Prepare();
        // Commands are stored as they will run (placeholders resolved), so they read right before a job has started.
        var paths = new ResourcePaths(_db.Home, batchId, spec.TmpRoot, spec.Inputs);
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> GroupsOf(int index) => spec.Jobs[index].ResourceGroups;
        foreach (var jobSpec in spec.Jobs)
        {
            var parents = ParentIds(jobSpec);
            object?[] values =
            [
                batchId, JobId(jobSpec), jobSpec.Name, (parents.Count == 0 ? JobState.Ready : JobState.Pending).ToString(),
                Math.Max(1, jobSpec.MaxAttempts), JobCommandText.Shown(jobSpec, paths, GroupsOf), JsonSerializer.Serialize(parents, Json),
                jobSpec.Cpu, jobSpec.MemoryBytes, jobSpec.Image, jobSpec.AlwaysRun ? 1 : 0, jobSpec.Preemptible ? 1 : 0,
                JsonSerializer.Serialize(jobSpec.Attributes, Json), JsonSerializer.Serialize(jobSpec, Json),
            ];
            for (var i = 0; i < values.Length; i++) parameters[i].Value = values[i] ?? DBNull.Value;
            job.ExecuteNonQuery();
        }
        return batchId;
    }

    /// <summary>A job's id in its batch: its index plus one.</summary>
    public static int JobId(JobSpec job) => job.Index + 1;

    /// <summary>The ids of the jobs that must finish first (DagValidator.Parents, the one rule), in id order.</summary>
    public static IReadOnlyList<int> ParentIds(JobSpec job) => DagValidator.Parents(job).Select(index => index + 1).Order().ToList();

    public async Task<BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        (await FindBatchesAsync(new BatchQuery { Ids = [batchId] }, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public async Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default) =>
        await _db.GuardAsync(() => FindAsync(query, cancellationToken)).ConfigureAwait(false);

    private async Task<List<BatchInfo>> FindAsync(BatchQuery query, CancellationToken cancellationToken)
    {
        using var connection = _db.Open();
        // One statement, so the batch rows and their job counts are one snapshot: read apart, a batch
        // could show every job finished and still be Running, because the executor committed in between.
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.ArGuid is not null)
        {
            where.Add("ar_guid = @guid");
            command.Parameters.AddWithValue("@guid", query.ArGuid);
        }
        if (query.State is { } state)
        {
            where.Add("state = @state");
            command.Parameters.AddWithValue("@state", state.ToString());
        }
        if (query.Ids is { } ids)
        {
            if (ids.Count == 0) return [];
            where.Add($"id IN ({string.Join(',', ids.Select((_, i) => "@id" + i))})");
            for (var i = 0; i < ids.Count; i++) command.Parameters.AddWithValue("@id" + i, ids[i]);
        }
        if (query.BeforeId is { } before)
        {
            where.Add("id < @before");
            command.Parameters.AddWithValue("@before", before);
        }
        command.CommandText = $"""
            SELECT {BatchRows.BatchColumns},
                   coalesce(sum(j.state IN ('Pending', 'Ready')), 0), coalesce(sum(j.state = 'Running'), 0),
                   coalesce(sum(j.state = 'Succeeded'), 0), coalesce(sum(j.state = 'Failed'), 0), coalesce(sum(j.state = 'Cancelled'), 0)
            FROM (SELECT * FROM batches {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
                  ORDER BY id DESC {(query.First is { } first ? "LIMIT " + Math.Max(0, first) : "")}) AS b
            LEFT JOIN jobs j ON j.batch_id = b.id
            GROUP BY b.id ORDER BY b.id DESC
            """;
        var batches = new List<BatchInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) batches.Add(BatchRows.Batch(reader));
        return batches;
    }

    public async Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) =>
        await _db.GuardAsync(() => ReadJobsAsync(batchId, null, cancellationToken)).ConfigureAwait(false);

    public async Task<JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        (await _db.GuardAsync(() => ReadJobsAsync(batchId, jobId, cancellationToken)).ConfigureAwait(false)).FirstOrDefault();

    private async Task<List<JobInfo>> ReadJobsAsync(long batchId, int? jobId, CancellationToken cancellationToken)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {BatchRows.JobColumns}, json_extract(j.spec, '$.environment'), (SELECT config_path FROM batches WHERE id = @batch),
                   a.cpu_seconds, a.peak_memory_bytes, a.wall_seconds
            FROM jobs j LEFT JOIN attempts a ON a.batch_id = j.batch_id AND a.job_id = j.job_id AND a.attempt = j.attempt
            WHERE j.batch_id = @batch {(jobId is null ? "" : "AND j.job_id = @job")} ORDER BY j.job_id
            """;
        command.Parameters.AddWithValue("@batch", batchId);
        if (jobId is { } id) command.Parameters.AddWithValue("@job", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var jobs = new List<JobInfo>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) jobs.Add(BatchRows.Job(reader, _db.Home, batchId));
        return jobs;
    }

    public async Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default)
    {
        var found = await _db.InTransactionAsync(async (connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE batches SET cancel_requested = 1 WHERE id = @id AND state = 'Running';
                SELECT count(*) FROM batches WHERE id = @id;
                """;
            command.Parameters.AddWithValue("@id", batchId);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
        }, cancellationToken).ConfigureAwait(false);
        if (!found)
            throw BatchStoreExtensions.NotFound(batchId);
    }

    public async Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        await _db.GuardAsync(() => ReadAttemptsAsync(batchId, jobId, cancellationToken)).ConfigureAwait(false);

    private async Task<List<JobAttempt>> ReadAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken)
    {
        using var connection = _db.Open();
        using var snapshot = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = "SELECT count(*) FROM jobs WHERE batch_id = @batch AND job_id = @job";
        command.Parameters.AddWithValue("@batch", batchId);
        command.Parameters.AddWithValue("@job", jobId);
        if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0)
            throw BatchStoreExtensions.JobNotFound(batchId, jobId);
        command.CommandText = $"SELECT {BatchRows.AttemptColumns} FROM attempts WHERE batch_id = @batch AND job_id = @job ORDER BY attempt";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var attempts = new List<JobAttempt>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) attempts.Add(BatchRows.Attempt(reader, batchId, jobId));
        return attempts;
    }

    public async Task<IReadOnlyList<JobAttempt>> GetBatchAttemptsAsync(long batchId, CancellationToken cancellationToken = default) =>
        await _db.GuardAsync(async () =>
        {
            using var connection = _db.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {BatchRows.AttemptColumns}, job_id FROM attempts WHERE batch_id = @batch ORDER BY job_id, attempt";
            command.Parameters.AddWithValue("@batch", batchId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var attempts = new List<JobAttempt>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) attempts.Add(BatchRows.AttemptOfBatch(reader, batchId));
            return attempts;
        }).ConfigureAwait(false);

    public async Task RemoveAsync(long batchId, CancellationToken cancellationToken = default)
    {
        var state = await _db.InTransactionAsync(async (connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT state FROM batches WHERE id = @id";
            command.Parameters.AddWithValue("@id", batchId);
            var found = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            if (found is null || found == nameof(BatchState.Running)) return found;
            command.CommandText = "DELETE FROM attempts WHERE batch_id = @id; DELETE FROM jobs WHERE batch_id = @id; DELETE FROM batches WHERE id = @id;";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return found;
        }, cancellationToken).ConfigureAwait(false);
        BatchFiles.RemoveAfterRows(_db.Home, batchId, state);
    }

    internal static string Timestamp(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

    private static DbParameter Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
