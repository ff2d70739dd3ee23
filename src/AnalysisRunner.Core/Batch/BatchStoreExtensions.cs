namespace AnalysisRunner.Core.Batch;

public static class BatchStoreExtensions
{
    /// <summary>The batch, or the one error every caller gives for an id that is not there.</summary>
    public static BatchInfo RequireBatch(this IBatchStore store, long batchId) =>
        store.GetBatch(batchId) ?? throw NotFound(batchId);

    /// <summary>
    /// Asks to cancel a run's whole tree: its driver batch (the run's first) first, so a batch the
    /// driver submits from then on lands cancelled (IBatchStore.Submit), then every other batch
    /// under its ar_guid. Returns the ids of the run's batches, oldest first.
    /// </summary>
    public static IReadOnlyList<long> RequestCancelRun(this IBatchStore store, string arGuid)
    {
        ArgumentNullException.ThrowIfNull(store);
        var driver = RunBatchIds(store, arGuid).FirstOrDefault();
        if (driver == 0)
            throw new AnalysisRunnerException("RunNotFound", ErrorKind.ObjectNotFound, arGuid,
                $"No batch belongs to a run with ar_guid '{arGuid}' in this runner home; Get-AnalysisLog lists the runs.");
        store.RequestCancel(driver);
        var all = RunBatchIds(store, arGuid);
        foreach (var id in all.Where(id => id != driver)) store.RequestCancel(id);
        return all;
    }

    private static List<long> RunBatchIds(IBatchStore store, string arGuid) =>
        store.FindBatches(new BatchQuery { ArGuid = arGuid }).Select(batch => batch.Id).Order().ToList();

    public static AnalysisRunnerException NotFound(long batchId) =>
        new("BatchNotFound", ErrorKind.ObjectNotFound, batchId,
            $"There is no batch {batchId} in this runner home; Get-Batch lists the batches there.");

    public static AnalysisRunnerException JobNotFound(long batchId, int jobId) =>
        new("JobNotFound", ErrorKind.ObjectNotFound, $"{batchId}/{jobId}",
            $"Batch {batchId} has no job {jobId}; Get-BatchJob -BatchId {batchId} lists its jobs.");
}
