namespace AnalysisRunner.Core.Batch;

/// <summary>Which batches to list: all filters are optional and combine with AND; newest first.</summary>
public sealed record BatchQuery
{
    public string? ArGuid { get; init; }
    public IReadOnlyList<long>? Ids { get; init; }
    public BatchState? State { get; init; }
    public int? First { get; init; }

    /// <summary>A keyset cursor: only batches with a smaller id (older ones). The last id of one page is the next page's BeforeId.</summary>
    public long? BeforeId { get; init; }
}

/// <summary>
/// The state of record for batches and jobs. The client side submits, reads and requests cancels;
/// the executor owns every job transition (IJobLedger). Implementations: SqliteBatchStore (the
/// embedded default) and PostgresBatchStore (a home whose settings name a database for batches), both
/// held to one contract suite. No connection or transaction crosses this interface: a backend that
/// writes a batch together with other rows does it inside itself (SqliteRunLog, HomeDriverBatches).
/// <para>
/// Asynchronous because its callers include the server's request handlers and the run channel's
/// service, which run on the thread pool: a store that blocked them on database I/O starved the pool
/// once (sync over async). Synchronous callers (cmdlets on their pipeline thread) wait at their edge.
/// </para>
/// </summary>
public interface IBatchStore
{
    /// <summary>
    /// Validates nothing (DagValidator does that first); stores the batch with every job Pending or
    /// Ready and returns its id. A batch of a run whose driver batch (the run's first) has been asked
    /// to cancel lands asked to cancel too, in the same write: a stopped run takes no new work.
    /// </summary>
    Task<long> SubmitAsync(BatchSpec spec, CancellationToken cancellationToken = default);

    Task<BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default);
    Task<JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default);

    /// <summary>Marks the batch for cancellation; the executor stops what has not finished.</summary>
    Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default);

    /// <summary>Every attempt a job has had so far, first to latest, as the executor recorded them (JobNotFound for no such job).</summary>
    Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every attempt of every job of a batch, by job then attempt; none for a batch that does not exist.
    /// One read where GetAttemptsAsync per job is one per job (the usage query reads whole batches).
    /// The stores of record answer it in one statement; others (the run channel's) ask per job.
    /// </summary>
    async Task<IReadOnlyList<JobAttempt>> GetBatchAttemptsAsync(long batchId, CancellationToken cancellationToken = default)
    {
        var attempts = new List<JobAttempt>();
        foreach (var job in await GetJobsAsync(batchId, cancellationToken).ConfigureAwait(false))
            attempts.AddRange(await GetAttemptsAsync(batchId, job.JobId, cancellationToken).ConfigureAwait(false));
        return attempts;
    }

    /// <summary>
    /// Deletes a finished batch: its rows, its logs and its work folders (resources in the tmp bucket
    /// stay). Throws BatchNotFinished for a batch still running (cancel it first) and BatchNotFound.
    /// </summary>
    Task RemoveAsync(long batchId, CancellationToken cancellationToken = default);
}
