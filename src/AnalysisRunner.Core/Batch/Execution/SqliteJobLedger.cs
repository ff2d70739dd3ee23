using System.Text.Json;
using AnalysisRunner.Core.Hosting;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>One change of a job's row, at its (current) attempt. Retried: the attempt before this one ended now.</summary>
internal sealed record JobTransition(long BatchId, int JobId, JobState State, int Attempt, string? Reason = null, int? ExitCode = null,
    bool Retried = false);

/// <summary>
/// A change of one attempt's row: it Started now (its output going where Log says), or it ended now
/// with this exit code and reason, its output where Log says.
/// </summary>
internal sealed record AttemptChange(Runners.AttemptKey Key, bool Started, string? Log, int? ExitCode = null, string? Reason = null)
{
    /// <summary>Recovery's record of an earlier attempt: it fills in what the row lacks (or the row itself), never overwrites.</summary>
    public bool FillInOnly { get; init; }

    /// <summary>What the ended attempt's process used, when the runner measured it.</summary>
    public Runners.ProcessUsage? Usage { get; init; }
}

/// <summary>A job row as the scheduler needs it: no commands, no spec.</summary>
internal sealed record JobRow(int JobId, JobState State, int Attempt, int MaxAttempts, bool Preemptible, bool AlwaysRun,
    double Cpu, long MemoryBytes, int[] Parents)
{
    /// <summary>
    /// The state the store's row says, where the ledger loads the job in another (State): the
    /// executor's own record of its ends decides (FinishedWork), and the row is written back to it.
    /// </summary>
    public JobState? Stored { get; init; }

    /// <summary>With Stored: the exit code and reason the executor recorded with the job's end, written back with it.</summary>
    public int? ExitCode { get; init; }

    public string? Reason { get; init; }
}

internal sealed record BatchRow(long Id, bool CancelRequested, List<JobRow> Jobs);

/// <summary>
/// The executor's side of the batch tables (the client's side is SqliteBatchStore): one long-lived
/// connection, used only from the scheduler loop, one call at a time; every group of transitions lands
/// in one transaction. On the async ADO methods, which complete synchronously (SQLite is in-process).
/// </summary>
internal sealed class SqliteJobLedger : IJobLedger
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _updateJob;
    private readonly SqliteCommand _completeBatch;
    private readonly SqliteCommand _loadJobSpec;
    private readonly SqliteCommand _startAttempt;
    private readonly SqliteCommand _endAttempt;
    private readonly SqliteCommand _fillInAttempt;

    public SqliteJobLedger(RunnerDatabase db)
    {
        SqliteBatchStore.EnsureSchema(db);
        _connection = db.Open();
        _updateJob = _connection.CreateCommand();
        _updateJob.CommandText = """
            UPDATE jobs SET
                state = @state,
                attempt = @attempt,
                started = CASE WHEN @state = 'Running' THEN @now ELSE started END,
                ended = CASE WHEN @state = 'Running' THEN NULL
                             WHEN @state IN ('Succeeded', 'Failed', 'Cancelled') OR @retried THEN @now
                             ELSE ended END,
                exit_code = CASE WHEN @state = 'Running' THEN NULL ELSE coalesce(@exit, exit_code) END,
                reason = CASE WHEN @state = 'Running' THEN NULL ELSE coalesce(@reason, reason) END
            WHERE batch_id = @batch AND job_id = @job
            """;
        foreach (var name in new[] { "@state", "@attempt", "@retried", "@now", "@exit", "@reason", "@batch", "@job" })
            _updateJob.Parameters.Add(new SqliteParameter(name, DBNull.Value));
        _startAttempt = Prepare("""
            INSERT INTO attempts (batch_id, job_id, attempt, started, log) VALUES (@batch, @job, @attempt, @now, @log)
            ON CONFLICT (batch_id, job_id, attempt) DO UPDATE SET started = excluded.started, ended = NULL, exit_code = NULL,
                reason = NULL, log = excluded.log
            """, "@batch", "@job", "@attempt", "@now", "@log");
        _endAttempt = Prepare("""
            INSERT INTO attempts (batch_id, job_id, attempt, ended, exit_code, reason, log, cpu_seconds, peak_memory_bytes, wall_seconds)
            VALUES (@batch, @job, @attempt, @now, @exit, @reason, @log, @cpu, @peak, @wall)
            ON CONFLICT (batch_id, job_id, attempt) DO UPDATE SET ended = excluded.ended, exit_code = excluded.exit_code,
                reason = excluded.reason, log = coalesce(excluded.log, log), cpu_seconds = excluded.cpu_seconds,
                peak_memory_bytes = excluded.peak_memory_bytes, wall_seconds = excluded.wall_seconds
            """, "@batch", "@job", "@attempt", "@now", "@exit", "@reason", "@log", "@cpu", "@peak", "@wall");
        _fillInAttempt = Prepare("""
            INSERT INTO attempts (batch_id, job_id, attempt, ended, exit_code, reason, log) VALUES (@batch, @job, @attempt, @now, @exit, @reason, @log)
            ON CONFLICT (batch_id, job_id, attempt) DO UPDATE SET ended = coalesce(ended, excluded.ended),
                exit_code = coalesce(exit_code, excluded.exit_code), reason = coalesce(reason, excluded.reason), log = coalesce(log, excluded.log)
            """, "@batch", "@job", "@attempt", "@now", "@exit", "@reason", "@log");
        _completeBatch = _connection.CreateCommand();
        _completeBatch.CommandText = "UPDATE batches SET state = @state, completed = @now WHERE id = @batch";
        foreach (var name in new[] { "@state", "@now", "@batch" })
            _completeBatch.Parameters.Add(new SqliteParameter(name, DBNull.Value));
        _loadJobSpec = _connection.CreateCommand();
        _loadJobSpec.CommandText = "SELECT spec FROM jobs WHERE batch_id = @batch AND job_id = @job";
        _loadJobSpec.Parameters.Add(new SqliteParameter("@batch", 0L));
        _loadJobSpec.Parameters.Add(new SqliteParameter("@job", 0));
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters) command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
        return command;
    }

    public async Task WriteAsync(IReadOnlyList<JobTransition> jobs, IReadOnlyList<AttemptChange> attempts,
        IReadOnlyList<(long BatchId, BatchState State)> batches, CancellationToken cancellationToken = default)
    {
        if (jobs.Count == 0 && attempts.Count == 0 && batches.Count == 0) return;
        var now = SqliteBatchStore.Timestamp(DateTimeOffset.UtcNow);
        using var transaction = _connection.BeginTransaction(deferred: false);
        _updateJob.Transaction = transaction;
        _completeBatch.Transaction = transaction;
        _startAttempt.Transaction = transaction;
        _endAttempt.Transaction = transaction;
        _fillInAttempt.Transaction = transaction;
        foreach (var a in attempts)
        {
            var command = a.Started ? _startAttempt : a.FillInOnly ? _fillInAttempt : _endAttempt;
            var p = command.Parameters;
            p["@batch"].Value = a.Key.BatchId;
            p["@job"].Value = a.Key.JobId;
            p["@attempt"].Value = a.Key.Attempt;
            p["@now"].Value = now;
            p["@log"].Value = (object?)a.Log ?? DBNull.Value;
            if (!a.Started)
            {
                p["@exit"].Value = (object?)a.ExitCode ?? DBNull.Value;
                p["@reason"].Value = (object?)a.Reason ?? DBNull.Value;
            }
            if (command == _endAttempt)
            {
                p["@cpu"].Value = (object?)a.Usage?.CpuSeconds ?? DBNull.Value;
                p["@peak"].Value = (object?)a.Usage?.PeakMemoryBytes ?? DBNull.Value;
                p["@wall"].Value = (object?)a.Usage?.WallSeconds ?? DBNull.Value;
            }
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var t in jobs)
        {
            var p = _updateJob.Parameters;
            p["@state"].Value = t.State.ToString();
            p["@attempt"].Value = t.Attempt;
            p["@retried"].Value = t.Retried ? 1 : 0;
            p["@now"].Value = now;
            p["@exit"].Value = (object?)t.ExitCode ?? DBNull.Value;
            p["@reason"].Value = (object?)t.Reason ?? DBNull.Value;
            p["@batch"].Value = t.BatchId;
            p["@job"].Value = t.JobId;
            await _updateJob.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var (batchId, state) in batches)
        {
            _completeBatch.Parameters["@state"].Value = state.ToString();
            _completeBatch.Parameters["@now"].Value = now;
            _completeBatch.Parameters["@batch"].Value = batchId;
            await _completeBatch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        _updateJob.Transaction = null;
        _completeBatch.Transaction = null;
        _startAttempt.Transaction = null;
        _endAttempt.Transaction = null;
        _fillInAttempt.Transaction = null;
    }

    public async Task<List<BatchRow>> LoadBatchesAsync(long afterId, CancellationToken cancellationToken = default)
    {
        var batches = new List<BatchRow>();
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT id, cancel_requested FROM batches WHERE state = 'Running' AND id > @after ORDER BY id";
            command.Parameters.AddWithValue("@after", afterId);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) batches.Add(new BatchRow(reader.GetInt64(0), reader.GetInt64(1) != 0, []));
        }
        using var jobs = _connection.CreateCommand();
        jobs.CommandText = """
            SELECT job_id, state, attempt, max_attempts, preemptible, always_run, cpu, memory, parents
            FROM jobs WHERE batch_id = @batch ORDER BY job_id
            """;
        var batchParameter = jobs.Parameters.Add(new SqliteParameter("@batch", 0L));
        foreach (var batch in batches)
        {
            batchParameter.Value = batch.Id;
            using var reader = await jobs.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                batch.Jobs.Add(new JobRow(reader.GetInt32(0), Enum.Parse<JobState>(reader.GetString(1)), reader.GetInt32(2),
                    reader.GetInt32(3), reader.GetInt64(4) != 0, reader.GetInt64(5) != 0, reader.GetDouble(6), reader.GetInt64(7),
                    JsonSerializer.Deserialize<int[]>(reader.GetString(8), SqliteBatchStore.Json) ?? []));
        }
        return batches;
    }

    public async Task<HashSet<long>> CancelRequestsAsync(CancellationToken cancellationToken = default)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id FROM batches WHERE state = 'Running' AND cancel_requested = 1";
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new HashSet<long>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ids.Add(reader.GetInt64(0));
        return ids;
    }

    public async Task<BatchSpec> LoadBatchSpecAsync(long batchId, CancellationToken cancellationToken = default)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT spec FROM batches WHERE id = @batch";
        command.Parameters.AddWithValue("@batch", batchId);
        return JsonSerializer.Deserialize<BatchSpec>((string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, SqliteBatchStore.Json)!;
    }

    /// <summary>Read once per job start, on the path from one job's end to the next one's start: one statement, prepared once.</summary>
    public async Task<JobSpec> LoadJobSpecAsync(long batchId, int jobId, CancellationToken cancellationToken = default)
    {
        _loadJobSpec.Parameters["@batch"].Value = batchId;
        _loadJobSpec.Parameters["@job"].Value = jobId;
        var json = await _loadJobSpec.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string
            ?? throw IJobLedger.RowMissing($"Job {batchId}/{jobId}");
        return JsonSerializer.Deserialize<JobSpec>(json, SqliteBatchStore.Json)!;
    }

    public void Dispose()
    {
        _updateJob.Dispose();
        _completeBatch.Dispose();
        _loadJobSpec.Dispose();
        _startAttempt.Dispose();
        _endAttempt.Dispose();
        _fillInAttempt.Dispose();
        _connection.Dispose();
    }
}
