namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's side of the batch store (the clients' side is <see cref="IBatchStore"/>): the
/// scheduler loop reads unfinished batches and job specs from it and writes each round of
/// transitions as one transaction. Implementations: SqliteJobLedger (the embedded default) and
/// PostgresJobLedger (a home whose batches are in PostgreSQL), held to one contract suite.
/// <para>
/// Synchronous on purpose: only the scheduler's one loop thread calls it, and on SQLite a round of
/// transitions is ~0.75 ms of a job's turnaround, where a Task and a state machine per round would
/// be pure cost. The PostgreSQL ledger uses Npgsql's synchronous I/O on that thread (no sync-over-async).
/// </para>
/// </summary>
internal interface IJobLedger : IDisposable
{
    /// <summary>A round of transitions (jobs, their attempts, completed batches) in one transaction.</summary>
    void Write(TransitionSet changes) => Write(changes.Jobs, changes.Attempts, changes.Batches);

    void Write(IReadOnlyList<JobTransition> jobs, IReadOnlyList<AttemptChange> attempts, IReadOnlyList<(long BatchId, BatchState State)> batches);

    /// <summary>Unfinished batches with an id above <paramref name="afterId"/>, with their jobs, oldest first.</summary>
    List<BatchRow> LoadBatches(long afterId);

    /// <summary>Unfinished batches that someone asked to cancel.</summary>
    HashSet<long> CancelRequests();

    /// <summary>The batch as submitted, without its jobs (tmp root, inputs, config path).</summary>
    BatchSpec LoadBatchSpec(long batchId);

    /// <summary>One job's spec as submitted, read once per job start.</summary>
    JobSpec LoadJobSpec(long batchId, int jobId);

    /// <summary>A row gone from under a loaded batch (removed, or deleted past the store): its job fails to start, not the executor.</summary>
    static AnalysisRunnerException RowMissing(string row) =>
        new("BatchRowMissing", ErrorKind.ObjectNotFound, row, $"{row} is no longer in the batch store, so it cannot be run.");
}
