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

    internal static void EnsureSchema(RunnerDatabase db) => db.EnsureSchema("batches", Schema);

    public long Submit(BatchSpec spec) => _db.InTransaction((connection, transaction) => Submit(spec, connection, transaction));

    public long Submit(BatchSpec spec, DbConnection connection, DbTransaction transaction)
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
        foreach (var jobSpec in spec.Jobs)
        {
            var parents = ParentIds(jobSpec);
            object?[] values =
            [
                batchId, JobId(jobSpec), jobSpec.Name, (parents.Count == 0 ? JobState.Ready : JobState.Pending).ToString(),
                Math.Max(1, jobSpec.MaxAttempts), string.Join('\n', jobSpec.Commands), JsonSerializer.Serialize(parents, Json),
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

    /// <summary>
    /// The ids of the jobs that must finish first: those named in DependsOn, and the owners of
    /// every other job's resource used in the commands or the output copies.
    /// </summary>
    public static IReadOnlyList<int> ParentIds(JobSpec job)
    {
        var parents = new SortedSet<int>(job.DependsOn.Select(index => index + 1));
        foreach (var text in job.Commands.Concat(job.Outputs.Select(output => output.Resource)))
            foreach (var use in ResourcePlaceholder.Find(text))
                if (use.JobIndex is { } owner && owner != job.Index)
                    parents.Add(owner + 1);
        parents.Remove(JobId(job));
        return parents.ToList();
    }

    public BatchInfo? GetBatch(long batchId) => FindBatches(new BatchQuery { Ids = [batchId] }).FirstOrDefault();

    public IReadOnlyList<BatchInfo> FindBatches(BatchQuery query)
    {
        using var connection = _db.Open();
        // One snapshot for the batch rows and their job counts: read apart, a batch could show every
        // job finished and still be Running, because the executor committed in between.
        using var snapshot = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = snapshot;
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
        command.CommandText = $"""
            SELECT id, name, ar_guid, attributes, state, total_jobs, cancel_requested, created, completed, config_path
            FROM batches {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY id DESC {(query.First is { } first ? "LIMIT " + Math.Max(0, first) : "")}
            """;
        var batches = new List<BatchInfo>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
                batches.Add(new BatchInfo
                {
                    Id = reader.GetInt64(0),
                    Name = reader.GetString(1),
                    ArGuid = reader.IsDBNull(2) ? null : reader.GetString(2),
                    Attributes = Dictionary(reader.GetString(3)),
                    State = Enum.Parse<BatchState>(reader.GetString(4)),
                    TotalJobs = reader.GetInt32(5),
                    CancelRequested = reader.GetInt64(6) != 0,
                    Created = ParseTimestamp(reader.GetString(7)),
                    Completed = reader.IsDBNull(8) ? null : ParseTimestamp(reader.GetString(8)),
                    ConfigPath = reader.IsDBNull(9) ? null : reader.GetString(9),
                });
        }
        return batches.Select(batch => WithCounters(snapshot, batch)).ToList();
    }

    private static BatchInfo WithCounters(SqliteTransaction snapshot, BatchInfo batch)
    {
        using var command = snapshot.Connection!.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = "SELECT state, count(*) FROM jobs WHERE batch_id = @id GROUP BY state";
        command.Parameters.AddWithValue("@id", batch.Id);
        using var reader = command.ExecuteReader();
        int pending = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
        while (reader.Read())
        {
            var count = reader.GetInt32(1);
            switch (Enum.Parse<JobState>(reader.GetString(0)))
            {
                case JobState.Pending or JobState.Ready: pending += count; break;
                case JobState.Running: running += count; break;
                case JobState.Succeeded: succeeded += count; break;
                case JobState.Failed: failed += count; break;
                case JobState.Cancelled: cancelled += count; break;
            }
        }
        return batch with
        {
            PendingJobs = pending, RunningJobs = running, SucceededJobs = succeeded, FailedJobs = failed, CancelledJobs = cancelled,
        };
    }

    public IReadOnlyList<JobInfo> GetJobs(long batchId) => ReadJobs(batchId, null);

    public JobInfo? GetJob(long batchId, int jobId) => ReadJobs(batchId, jobId).FirstOrDefault();

    private List<JobInfo> ReadJobs(long batchId, int? jobId)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT job_id, name, state, exit_code, attempt, started, ended, command, cpu, memory, image, always_run, parents, attributes, reason
            FROM jobs WHERE batch_id = @batch {(jobId is null ? "" : "AND job_id = @job")} ORDER BY job_id
            """;
        command.Parameters.AddWithValue("@batch", batchId);
        if (jobId is { } id) command.Parameters.AddWithValue("@job", id);
        using var reader = command.ExecuteReader();
        var jobs = new List<JobInfo>();
        while (reader.Read())
            jobs.Add(new JobInfo
            {
                BatchId = batchId,
                JobId = reader.GetInt32(0),
                Name = reader.GetString(1),
                State = Enum.Parse<JobState>(reader.GetString(2)),
                ExitCode = reader.IsDBNull(3) ? null : reader.GetInt32(3),
                Attempt = reader.GetInt32(4),
                Started = reader.IsDBNull(5) ? null : ParseTimestamp(reader.GetString(5)),
                Ended = reader.IsDBNull(6) ? null : ParseTimestamp(reader.GetString(6)),
                Command = reader.GetString(7),
                Cpu = reader.GetDouble(8),
                MemoryBytes = reader.GetInt64(9),
                Image = reader.IsDBNull(10) ? null : reader.GetString(10),
                AlwaysRun = reader.GetInt64(11) != 0,
                Parents = JsonSerializer.Deserialize<int[]>(reader.GetString(12), Json) ?? [],
                Attributes = Dictionary(reader.GetString(13)),
                Reason = reader.IsDBNull(14) ? null : reader.GetString(14),
            });
        return jobs;
    }

    public void RequestCancel(long batchId)
    {
        var found = _db.InTransaction((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE batches SET cancel_requested = 1 WHERE id = @id AND state = 'Running';
                SELECT count(*) FROM batches WHERE id = @id;
                """;
            command.Parameters.AddWithValue("@id", batchId);
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
        });
        if (!found)
            throw BatchStoreExtensions.NotFound(batchId);
    }

    public JobLogPaths GetLogPaths(long batchId, int jobId, int attempt) => JobLogFiles.Find(_db.Home, batchId, jobId, attempt);

    public IReadOnlyList<JobAttempt> GetAttempts(long batchId, int jobId)
    {
        var job = GetJob(batchId, jobId)
            ?? throw new AnalysisRunnerException("JobNotFound", ErrorKind.ObjectNotFound, $"{batchId}/{jobId}", $"Batch {batchId} has no job {jobId}.");
        // A job that never started has attempt 1 and no logs: it has had no attempts.
        var last = job.Started is null && job.State is not JobState.Running ? job.Attempt - 1 : job.Attempt;
        if (last <= 0) return [];
        var recorded = JobLogFiles.ReadExitStatuses(_db.Home, batchId);   // once for all the attempts
        return Enumerable.Range(1, last).Select(attempt =>
        {
            var logs = JobLogFiles.Find(_db.Home, batchId, jobId, attempt);
            return new JobAttempt(batchId, jobId, attempt, JobLogFiles.ExitStatus(recorded, _db.Home, batchId, jobId, attempt), logs.Stdout, logs.Stderr);
        }).ToList();
    }

    public void Remove(long batchId)
    {
        var state = _db.InTransaction((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT state FROM batches WHERE id = @id";
            command.Parameters.AddWithValue("@id", batchId);
            var found = command.ExecuteScalar() as string;
            if (found is null || found == nameof(BatchState.Running)) return found;
            command.CommandText = "DELETE FROM jobs WHERE batch_id = @id; DELETE FROM batches WHERE id = @id;";
            command.ExecuteNonQuery();
            return found;
        });
        if (state is null)
            throw BatchStoreExtensions.NotFound(batchId);
        if (state == nameof(BatchState.Running))
            throw new AnalysisRunnerException("BatchNotFinished", ErrorKind.InvalidOperation, batchId,
                $"Batch {batchId} has not finished; cancel it with Stop-Batch and wait for it before removing it.");
        // The rows are gone, so nothing points at these files any more; a failure here leaves only litter.
        foreach (var folder in new[] { Path.Combine(_db.Home.LogsDirectory, batchId.ToString(CultureInfo.InvariantCulture)),
                                       Path.Combine(_db.Home.WorkDirectory, batchId.ToString(CultureInfo.InvariantCulture)) })
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException("BatchFilesNotRemoved", ErrorKind.ResourceUnavailable, folder,
                    $"Batch {batchId}'s records are removed but {folder} could not be: {e.Message}", e);
            }
        }
    }

    internal static string Timestamp(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

    private static Dictionary<string, string> Dictionary(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json, Json) ?? [];

    private static DbParameter Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
