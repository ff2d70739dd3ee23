namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's side of the batch store (the clients' side is <see cref="IBatchStore"/>): the
/// scheduler loop reads unfinished batches and job specs from it and writes each round of
/// transitions as one transaction. Implementations: SqliteJobLedger (the embedded default) and
/// PostgresJobLedger (a home whose batches are in PostgreSQL), held to one contract suite.
/// <para>
/// Asynchronous, as the other stores: the scheduler's loop awaits it, so a round waiting on
/// PostgreSQL holds no thread (Npgsql's async I/O through PostgresDatabase.RunAsync). Calls still
/// come one at a time, from the one loop, in its order: each round is written before it takes effect
/// in memory. SQLite's answers complete synchronously (it is in-process), so on the embedded ledger
/// a round costs a few completed Tasks, not a thread hop: bench figure 7 (1,000 `true` jobs) beside
/// the synchronous ledger showed no difference in the executor's CPU per job (~2.2 ms) beyond the
/// machine's noise, so Task, not ValueTask.
/// </para>
/// </summary>
internal interface IJobLedger : IDisposable
{
    /// <summary>A round of transitions (jobs, their attempts, completed batches) in one transaction.</summary>
    Task WriteAsync(TransitionSet changes, CancellationToken cancellationToken = default) =>
        WriteAsync(changes.Jobs, changes.Attempts, changes.Batches, cancellationToken);

    Task WriteAsync(IReadOnlyList<JobTransition> jobs, IReadOnlyList<AttemptChange> attempts,
        IReadOnlyList<(long BatchId, BatchState State)> batches, CancellationToken cancellationToken = default);

    /// <summary>Unfinished batches with an id above <paramref name="afterId"/>, with their jobs, oldest first.</summary>
    Task<List<BatchRow>> LoadBatchesAsync(long afterId, CancellationToken cancellationToken = default);

    /// <summary>Unfinished batches that someone asked to cancel.</summary>
    Task<HashSet<long>> CancelRequestsAsync(CancellationToken cancellationToken = default);

    /// <summary>The batch as submitted, without its jobs (tmp root, inputs, config path).</summary>
    Task<BatchSpec> LoadBatchSpecAsync(long batchId, CancellationToken cancellationToken = default);

    /// <summary>One job's spec as submitted, read once per job start.</summary>
    Task<JobSpec> LoadJobSpecAsync(long batchId, int jobId, CancellationToken cancellationToken = default);

    /// <summary>A row gone from under a loaded batch (removed, or deleted past the store): its job fails to start, not the executor.</summary>
    static AnalysisRunnerException RowMissing(string row) =>
        new("BatchRowMissing", ErrorKind.ObjectNotFound, row, $"{row} is no longer in the batch store, so it cannot be run.");
}
