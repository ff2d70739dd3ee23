namespace AnalysisRunner.Core.Batch;

public static class BatchStoreExtensions
{
    /// <summary>The batch, or the one error every caller gives for an id that is not there.</summary>
    public static BatchInfo RequireBatch(this IBatchStore store, long batchId) =>
        store.GetBatch(batchId) ?? throw NotFound(batchId);

    public static AnalysisRunnerException NotFound(long batchId) =>
        new("BatchNotFound", ErrorKind.ObjectNotFound, batchId,
            $"There is no batch {batchId} in this runner home; Get-Batch lists the batches there.");

    public static AnalysisRunnerException JobNotFound(long batchId, int jobId) =>
        new("JobNotFound", ErrorKind.ObjectNotFound, $"{batchId}/{jobId}",
            $"Batch {batchId} has no job {jobId}; Get-BatchJob -BatchId {batchId} lists its jobs.");
}
