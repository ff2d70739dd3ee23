using System.Text.Json;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's side of PostgresBatchStore's tables: SqliteJobLedger's statements, each round of
/// transitions one transaction sent as one batch of statements (one round trip). Called only from
/// the scheduler's loop, one call at a time, on Npgsql's async I/O.
/// <para>
/// A pooled connection per call, not one held for the executor's life, so a restarted PostgreSQL
/// costs one retried call (PostgresDatabase.RunAsync), not every later one. The COMMIT is never
/// cancelled: once sent, whether it landed is what the loop must hear. A round retried after its
/// COMMIT lost its answer writes the same states again: every statement here sets values or fills
/// in, so running a round twice leaves what running it once does (only its timestamps move on).
/// </para>
/// </summary>
internal sealed class PostgresJobLedger(PostgresDatabase database, RunnerHome home) : IJobLedger
{
    private readonly FinishedWork _finished = new(home);

    /// <summary>The seal of each batch row this ledger loaded (or wrote for), which the executor's records are made under.</summary>
    private readonly Dictionary<long, string> _seals = [];

    private const string UpdateJob = """
        UPDATE jobs SET
            state = $1,
            attempt = $2,
            started = CASE WHEN $1 = 'Running' THEN $4 ELSE started END,
            ended = CASE WHEN $1 = 'Running' THEN NULL
                         WHEN $1 IN ('Succeeded', 'Failed', 'Cancelled') OR $3 THEN $4
                         ELSE ended END,
            exit_code = CASE WHEN $1 = 'Running' THEN NULL ELSE coalesce($5, exit_code) END,
            reason = CASE WHEN $1 = 'Running' THEN NULL ELSE coalesce($6, reason) END
        WHERE batch_id = $7 AND job_id = $8
        """;

    private const string StartAttempt = """
        INSERT INTO attempts (batch_id, job_id, attempt, started, log) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (batch_id, job_id, attempt) DO UPDATE SET started = excluded.started, ended = NULL, exit_code = NULL,
            reason = NULL, log = excluded.log
        """;

    private const string EndAttempt = """
        INSERT INTO attempts (batch_id, job_id, attempt, ended, log, exit_code, reason, cpu_seconds, peak_memory_bytes, wall_seconds)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (batch_id, job_id, attempt) DO UPDATE SET ended = excluded.ended, exit_code = excluded.exit_code,
            reason = excluded.reason, log = coalesce(excluded.log, attempts.log), cpu_seconds = excluded.cpu_seconds,
            peak_memory_bytes = excluded.peak_memory_bytes, wall_seconds = excluded.wall_seconds
        """;

    private const string FillInAttempt = """
        INSERT INTO attempts (batch_id, job_id, attempt, ended, log, exit_code, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (batch_id, job_id, attempt) DO UPDATE SET ended = coalesce(attempts.ended, excluded.ended),
            exit_code = coalesce(attempts.exit_code, excluded.exit_code), reason = coalesce(attempts.reason, excluded.reason),
            log = coalesce(attempts.log, excluded.log)
        """;

    public async Task WriteAsync(IReadOnlyList<JobTransition> jobs, IReadOnlyList<AttemptChange> attempts,
        IReadOnlyList<(long BatchId, BatchState State)> batches, CancellationToken cancellationToken = default)
    {
        if (jobs.Count == 0 && attempts.Count == 0 && batches.Count == 0) return;
        var now = DateTime.UtcNow;
        var seals = await SealsOfAsync(jobs.Select(job => job.BatchId).Concat(batches.Select(batch => batch.BatchId)), cancellationToken).ConfigureAwait(false);
        _finished.RecordEnds(jobs, seals);
        await database.RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var round = new NpgsqlBatch(connection, transaction);
            foreach (var a in attempts)
            {
                var command = new NpgsqlBatchCommand(a.Started ? StartAttempt : a.FillInOnly ? FillInAttempt : EndAttempt);
                var p = command.Parameters;
                p.Add(Value(a.Key.BatchId, NpgsqlDbType.Bigint));
                p.Add(Value(a.Key.JobId, NpgsqlDbType.Integer));
                p.Add(Value(a.Key.Attempt, NpgsqlDbType.Integer));
                p.Add(Value(now, NpgsqlDbType.TimestampTz));
                p.Add(Value(a.Log, NpgsqlDbType.Text));
                if (!a.Started)
                {
                    p.Add(Value(a.ExitCode, NpgsqlDbType.Integer));
                    p.Add(Value(a.Reason, NpgsqlDbType.Text));
                }
                if (!a.Started && !a.FillInOnly)
                {
                    p.Add(Value(a.Usage?.CpuSeconds, NpgsqlDbType.Double));
                    p.Add(Value(a.Usage?.PeakMemoryBytes, NpgsqlDbType.Bigint));
                    p.Add(Value(a.Usage?.WallSeconds, NpgsqlDbType.Double));
                }
                round.BatchCommands.Add(command);
            }
            foreach (var t in jobs)
                round.BatchCommands.Add(new NpgsqlBatchCommand(UpdateJob)
                {
                    Parameters =
                    {
                        Value(t.State.ToString(), NpgsqlDbType.Text), Value(t.Attempt, NpgsqlDbType.Integer), Value(t.Retried, NpgsqlDbType.Boolean),
                        Value(now, NpgsqlDbType.TimestampTz), Value(t.ExitCode, NpgsqlDbType.Integer), Value(t.Reason, NpgsqlDbType.Text),
                        Value(t.BatchId, NpgsqlDbType.Bigint), Value(t.JobId, NpgsqlDbType.Integer),
                    },
                });
            foreach (var (batchId, state) in batches)
                round.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE batches SET state = $1, completed = $2 WHERE id = $3")
                {
                    Parameters = { Value(state.ToString(), NpgsqlDbType.Text), Value(now, NpgsqlDbType.TimestampTz), Value(batchId, NpgsqlDbType.Bigint) },
                });
            await round.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _finished.RecordBatches(batches, seals);
        foreach (var (batchId, state) in batches)
            if (state != BatchState.Running) _seals.Remove(batchId);
    }

    /// <summary>
    /// The row seals of these batches: as loaded, else as the row holds it now (a write for a batch this
    /// ledger did not load); a batch with no row has none, which no record made under it will match.
    /// </summary>
    private async Task<Dictionary<long, string>> SealsOfAsync(IEnumerable<long> batchIds, CancellationToken cancellationToken)
    {
        var wanted = batchIds.Distinct().ToList();
        var missing = wanted.Where(id => !_seals.ContainsKey(id)).ToArray();
        if (missing.Length > 0)
            await database.RunAsync(async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT id, seal FROM batches WHERE id = ANY($1)", connection);
                command.Parameters.Add(Value(missing, NpgsqlDbType.Array | NpgsqlDbType.Bigint));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    if (!reader.IsDBNull(1)) _seals[reader.GetInt64(0)] = reader.GetString(1);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        return wanted.ToDictionary(id => id, id => _seals.GetValueOrDefault(id, ""));
    }

    public Task<List<BatchRow>> LoadBatchesAsync(long afterId, CancellationToken cancellationToken = default) => database.RunAsync(async connection =>
    {
        var batches = new List<BatchRow>();
        var seals = new Dictionary<long, string>();
        await using (var command = new NpgsqlCommand("SELECT id, cancel_requested, spec, seal FROM batches WHERE state = 'Running' AND id > $1 ORDER BY id", connection))
        {
            command.Parameters.AddWithValue(afterId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            // A batch row the runner did not seal is no one's and is not loaded: not even its id moves the
            // executor on (a forged row at the highest id would otherwise hide every later batch).
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                if (BatchRowSeal.Holds(BatchRowSeal.OfBatch(home, reader.GetInt64(0), reader.GetString(2)), reader.IsDBNull(3) ? null : reader.GetString(3)))
                {
                    batches.Add(new BatchRow(reader.GetInt64(0), reader.GetBoolean(1), []));
                    seals[reader.GetInt64(0)] = reader.GetString(3);
                }
        }
        // A batch this executor finished is never run again, a job it finished stays as it ended, and a
        // job it did not finish has not ended, whatever their rows say now (FinishedWork).
        var finished = _finished.BatchesAmong(seals);
        batches.RemoveAll(batch => finished.Contains(batch.Id));
        if (batches.Count == 0) return batches;
        var byId = batches.ToDictionary(batch => batch.Id);
        foreach (var id in byId.Keys) _seals[id] = seals[id];
        var ended = _finished.JobsOf(byId.ToDictionary(pair => pair.Key, pair => seals[pair.Key]));
        await using var jobs = new NpgsqlCommand("""
            SELECT batch_id, job_id, state, attempt, spec, seal FROM jobs WHERE batch_id = ANY($1) ORDER BY batch_id, job_id
            """, connection);
        jobs.Parameters.Add(Value(byId.Keys.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        var unreadable = new HashSet<long>();
        await using (var reader = await jobs.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var (batchId, jobId) = (reader.GetInt64(0), reader.GetInt32(1));
                // A state the executor never writes stops that batch from loading, not the executor.
                if (!Enum.TryParse<JobState>(reader.GetString(2), ignoreCase: false, out var written) || !Enum.IsDefined(written))
                {
                    unreadable.Add(batchId);
                    continue;
                }
                var recorded = ended.GetValueOrDefault((batchId, jobId));
                var state = recorded?.State ?? (written.IsFinished() ? JobState.Pending : written);
                var row = SealedRow(batchId, jobId, state, reader.GetInt32(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5));
                byId[batchId].Jobs.Add(state == written ? row : row with { Stored = written, ExitCode = recorded?.ExitCode, Reason = recorded?.Reason });
            }
        batches.RemoveAll(batch => unreadable.Contains(batch.Id));
        return batches;
    }, cancellationToken);

    /// <summary>
    /// A job's place in its batch's graph (parents, attempts, what it needs) from its sealed spec, as
    /// the store derived the columns at submission: the columns are not sealed, so whoever reaches the
    /// database could otherwise free a job from its gate (parents '[]') or give it more attempts. A row
    /// whose seal does not hold has no graph to take: it is a root with one attempt, and it fails to
    /// start (LoadJobSpecAsync: BatchRowNotSealed).
    /// </summary>
    private JobRow SealedRow(long batchId, int jobId, JobState state, int attempt, string spec, string? seal)
    {
        // The attempt column is not sealed either: below 0 it would give a job attempts it was never given.
        attempt = Math.Max(0, attempt);
        if (!BatchRowSeal.Holds(BatchRowSeal.OfJob(home, batchId, jobId, spec), seal))
            return new JobRow(jobId, state, attempt, 1, false, false, 0, 0, []);
        var job = JsonSerializer.Deserialize<JobSpec>(spec, SqliteBatchStore.Json)!;
        return new JobRow(jobId, state, attempt, Math.Max(1, job.MaxAttempts), job.Preemptible, job.AlwaysRun, job.Cpu, job.MemoryBytes,
            [.. SqliteBatchStore.ParentIds(job)]);
    }

    public Task<HashSet<long>> CancelRequestsAsync(CancellationToken cancellationToken = default) => database.RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("SELECT id FROM batches WHERE state = 'Running' AND cancel_requested", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new HashSet<long>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ids.Add(reader.GetInt64(0));
        return ids;
    }, cancellationToken);

    /// <summary>The batch's spec, only as the runner sealed it (BatchRowSeal): what its scope and paths are derived from.</summary>
    public async Task<BatchSpec> LoadBatchSpecAsync(long batchId, CancellationToken cancellationToken = default)
    {
        var (spec, seal) = await SpecAndSealAsync("SELECT spec, seal FROM batches WHERE id = $1", batchId, null, cancellationToken).ConfigureAwait(false)
            ?? throw IJobLedger.RowMissing($"Batch {batchId}");
        BatchRowSeal.Check(BatchRowSeal.OfBatch(home, batchId, spec), seal, $"Batch {batchId}");
        return JsonSerializer.Deserialize<BatchSpec>(spec, SqliteBatchStore.Json)!;
    }

    /// <summary>The job's spec (its command, inputs, outputs), only as the runner sealed it.</summary>
    public async Task<JobSpec> LoadJobSpecAsync(long batchId, int jobId, CancellationToken cancellationToken = default)
    {
        var (spec, seal) = await SpecAndSealAsync("SELECT spec, seal FROM jobs WHERE batch_id = $1 AND job_id = $2", batchId, jobId, cancellationToken).ConfigureAwait(false)
            ?? throw IJobLedger.RowMissing($"Job {batchId}/{jobId}");
        BatchRowSeal.Check(BatchRowSeal.OfJob(home, batchId, jobId, spec), seal, $"Job {batchId}/{jobId}");
        return JsonSerializer.Deserialize<JobSpec>(spec, SqliteBatchStore.Json)!;
    }

    private Task<(string Spec, string? Seal)?> SpecAndSealAsync(string sql, long batchId, int? jobId, CancellationToken cancellationToken) =>
        database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue(batchId);
            if (jobId is { } id) command.Parameters.AddWithValue(id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1))
                : ((string, string?)?)null;
        }, cancellationToken);

    private static NpgsqlParameter Value(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    /// <summary>Nothing held: every call takes a pooled connection of the data source, which the deployment owns.</summary>
    public void Dispose() { }
}
