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
/// </summary>
public interface IBatchStore
{
    /// <summary>
    /// Validates nothing (DagValidator does that first); stores the batch with every job Pending or
    /// Ready and returns its id. A batch of a run whose driver batch (the run's first) has been asked
    /// to cancel lands asked to cancel too, in the same write: a stopped run takes no new work.
    /// </summary>
    long Submit(BatchSpec spec);

    BatchInfo? GetBatch(long batchId);
    IReadOnlyList<BatchInfo> FindBatches(BatchQuery query);
    IReadOnlyList<JobInfo> GetJobs(long batchId);
    JobInfo? GetJob(long batchId, int jobId);

    /// <summary>Marks the batch for cancellation; the executor stops what has not finished.</summary>
    void RequestCancel(long batchId);

    /// <summary>Every attempt a job has had so far, first to latest, as the executor recorded them (JobNotFound for no such job).</summary>
    IReadOnlyList<JobAttempt> GetAttempts(long batchId, int jobId);

    /// <summary>
    /// Deletes a finished batch: its rows, its logs and its work folders (resources in the tmp bucket
    /// stay). Throws BatchNotFinished for a batch still running (cancel it first) and BatchNotFound.
    /// </summary>
    void Remove(long batchId);
}
