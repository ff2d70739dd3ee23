namespace AnalysisRunner.Core.Batch;

public static class BatchStoreExtensions
{
    /// <summary>The batch, or the one error every caller gives for an id that is not there.</summary>
    public static async Task<BatchInfo> RequireBatchAsync(this IBatchStore store, long batchId, CancellationToken cancellationToken = default) =>
        await store.GetBatchAsync(batchId, cancellationToken).ConfigureAwait(false) ?? throw NotFound(batchId);

    /// <summary>
    /// Asks to cancel a run's whole tree: its driver batch (the run's first) first, so a batch the
    /// driver submits from then on lands cancelled (IBatchStore.SubmitAsync), then every other batch
    /// under its ar_guid. Returns the ids of the run's batches, oldest first.
    /// </summary>
    public static async Task<IReadOnlyList<long>> RequestCancelRunAsync(this IBatchStore store, string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var driver = (await RunBatchIdsAsync(store, arGuid, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (driver == 0)
            throw new AnalysisRunnerException("RunNotFound", ErrorKind.ObjectNotFound, arGuid,
                $"No batch belongs to a run with ar_guid '{arGuid}' in this runner home; Get-AnalysisLog lists the runs.");
        await store.RequestCancelAsync(driver, cancellationToken).ConfigureAwait(false);
        var all = await RunBatchIdsAsync(store, arGuid, cancellationToken).ConfigureAwait(false);
        foreach (var id in all.Where(id => id != driver)) await store.RequestCancelAsync(id, cancellationToken).ConfigureAwait(false);
        return all;
    }

    private static async Task<List<long>> RunBatchIdsAsync(IBatchStore store, string arGuid, CancellationToken cancellationToken) =>
        (await store.FindBatchesAsync(new BatchQuery { ArGuid = arGuid }, cancellationToken).ConfigureAwait(false)).Select(batch => batch.Id).Order().ToList();

    public static AnalysisRunnerException NotFound(long batchId) =>
        new("BatchNotFound", ErrorKind.ObjectNotFound, batchId,
            $"There is no batch {batchId} in this runner home; Get-Batch lists the batches there.");

    public static AnalysisRunnerException JobNotFound(long batchId, int jobId) =>
        new("JobNotFound", ErrorKind.ObjectNotFound, $"{batchId}/{jobId}",
            $"Batch {batchId} has no job {jobId}; Get-BatchJob -BatchId {batchId} lists its jobs.");
}
