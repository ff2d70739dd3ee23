using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>What every runner's log reader asks of the store about one attempt: its record (null before it started) and whether it has ended.</summary>
internal static class AttemptLogState
{
    /// <summary>An attempt has ended when its end is recorded, a later attempt exists, or its job is finished (the database may have lost the end itself).</summary>
    public static async Task<(JobAttempt? Record, bool Ended)> FindAsync(IBatchStore store, long batchId, int jobId, int attempt,
        CancellationToken cancellationToken)
    {
        var job = await store.GetJobAsync(batchId, jobId, cancellationToken).ConfigureAwait(false) ?? throw BatchStoreExtensions.JobNotFound(batchId, jobId);
        var record = (await store.GetAttemptsAsync(batchId, jobId, cancellationToken).ConfigureAwait(false)).FirstOrDefault(a => a.Attempt == attempt);
        return (record, record?.Ended is not null || job.Attempt > attempt || job.State.IsFinished());
    }
}

/// <summary>
/// Waits, while a reader follows a log, for the next change to a batch's log folder: a write there
/// (inotify) or the executor's change signal, and at the longest a safety wait for a change neither
/// signalled.
/// </summary>
internal sealed class BatchLogChanges : IDisposable
{
    private readonly DirectoryWatch _folder;
    private readonly ExecutorSignals? _executor;
    private readonly TimeSpan _longestWait;

    public BatchLogChanges(RunnerHome home, string folder, TimeSpan longestWait)
    {
        Directory.CreateDirectory(folder);
        _folder = new DirectoryWatch([folder], modified: true);
        _executor = ExecutorSignals.TryConnect(home, changes: true);
        _longestWait = longestWait;
    }

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await Task.Run(() => _folder.Wait(_longestWait, _executor?.Handle)).WaitAsync(cancellationToken).ConfigureAwait(false);
        _executor?.Drain();
    }

    public void Dispose()
    {
        _executor?.Dispose();
        _folder.Dispose();
    }
}
