using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>What removing a batch means beyond its rows, the same for every batch store.</summary>
internal static class BatchFiles
{
    /// <summary>
    /// After a store's removal transaction, given the state it found (null: no such batch): the
    /// refusals, or, the rows being gone, the batch's logs and work folders (resources in the tmp
    /// bucket stay). Nothing points at these files any more, so a failure here leaves only litter.
    /// </summary>
    public static void RemoveAfterRows(RunnerHome home, long batchId, string? foundState)
    {
        if (foundState is null)
            throw BatchStoreExtensions.NotFound(batchId);
        if (foundState == nameof(BatchState.Running))
            throw new AnalysisRunnerException("BatchNotFinished", ErrorKind.InvalidOperation, batchId,
                $"Batch {batchId} has not finished; cancel it with Stop-Batch and wait for it before removing it.");
        foreach (var folder in new[] { Path.Combine(home.LogsDirectory, batchId.ToString(CultureInfo.InvariantCulture)),
                                       Path.Combine(home.WorkDirectory, batchId.ToString(CultureInfo.InvariantCulture)) })
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException("BatchFilesNotRemoved", ErrorKind.ResourceUnavailable, folder,
                    $"Batch {batchId}'s records are removed but {folder} could not be: {e.Message}", e);
            }
        }
    }
}
