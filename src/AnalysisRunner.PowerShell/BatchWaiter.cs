using System.Diagnostics;
using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// Waits in the client for batches the executor runs, showing Write-Progress. The executor signals
/// each batch's end (BatchEndSignal), so an end is seen when it happens; between signals the
/// database is read less and less often, only to move the progress bar.
/// </summary>
internal sealed class BatchWaiter(Cmdlet cmdlet, Deployment deployment)
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromSeconds(1);
    private readonly Stopwatch elapsed = Stopwatch.StartNew();

    /// <summary>Waits for the driver batch, then for every batch the driver submitted (same ar_guid), until none is left running.</summary>
    public IReadOnlyList<BatchInfo> WaitForRun(RunRecord run, TimeSpan? timeout)
    {
        var waited = new Dictionary<long, BatchInfo>();
        var pending = new List<long> { run.DriverBatchId };
        while (pending.Count > 0)
        {
            foreach (var batch in WaitFor(pending, timeout))
                waited[batch.Id] = batch;
            pending = deployment.Batches.FindBatches(new BatchQuery { ArGuid = run.ArGuid })
                .Select(batch => batch.Id).Where(id => !waited.ContainsKey(id)).ToList();
        }
        return waited.Values.OrderBy(batch => batch.Id).ToList();
    }

    public IReadOnlyList<BatchInfo> WaitFor(IReadOnlyList<long> batchIds, TimeSpan? timeout)
    {
        var activity = batchIds.Count == 1 ? $"Waiting for batch {batchIds[0]}" : $"Waiting for batches {string.Join(", ", batchIds)}";
        var progress = new ProgressRecord(Math.Abs(activity.GetHashCode() % 10000) + 1, activity, "starting");
        var interval = FirstPoll;
        using var batchEnded = new BatchEndSignal(deployment.Home);
        batchEnded.Listen();
        try
        {
            while (true)
            {
                var batches = batchIds.Select(deployment.Batches.RequireBatch).ToList();
                var total = batches.Sum(batch => batch.TotalJobs);
                var done = batches.Sum(batch => batch.SucceededJobs + batch.FailedJobs + batch.CancelledJobs);
                var failed = batches.Sum(batch => batch.FailedJobs);
                var running = batches.Sum(batch => batch.RunningJobs);
                progress.StatusDescription = $"{done}/{total} jobs done, {running} running, {failed} failed";
                progress.PercentComplete = total == 0 ? 100 : (int)(100L * done / total);
                cmdlet.WriteProgress(progress);
                if (batches.All(batch => batch.IsComplete)) return batches;
                if (timeout is { } limit && elapsed.Elapsed > limit)
                    throw new AnalysisRunnerException("WaitTimedOut", ErrorKind.OperationTimeout, batchIds.Count == 1 ? batchIds[0] : batchIds,
                        $"{activity} timed out after {limit.TotalSeconds:0.#} s with {done}/{total} jobs done; the batch goes on running (Stop-Batch cancels it).");
                if (cmdlet.Stopping) throw new PipelineStoppedException();
                batchEnded.Wait(interval);
                interval = TimeSpan.FromMilliseconds(Math.Min(interval.TotalMilliseconds * 1.3, LongestPoll.TotalMilliseconds));
            }
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(progress);
        }
    }
}
