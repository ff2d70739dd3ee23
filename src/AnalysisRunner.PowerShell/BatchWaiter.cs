using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// Shows a wait of the runner client (Core's IBatchWatcher in-process, its events over HTTP) as
/// Write-Progress. The waiting itself is Core's: it blocks on the executor's signals, and reads
/// progress only when the progress bar is shown.
/// </summary>
internal sealed class BatchWaiter(PSCmdlet cmdlet, IRunnerClient client, CancellationToken cancellation)
{
    public BatchWaiter(PSCmdlet cmdlet, Deployment deployment, CancellationToken cancellation)
        : this(cmdlet, new InProcessRunnerClient(deployment), cancellation)
    {
    }

    public IReadOnlyList<BatchInfo> WaitForRun(RunRecord run, TimeSpan? timeout) =>
        Show($"Waiting for run {run.ArGuid}", client.WatchRunAsync(run.ArGuid, run.DriverBatchId, Options(timeout), cancellation));

    public IReadOnlyList<BatchInfo> WaitFor(IReadOnlyList<long> batchIds, TimeSpan? timeout) =>
        Show(batchIds.Count == 1 ? $"Waiting for batch {batchIds[0]}" : $"Waiting for batches {string.Join(", ", batchIds)}",
            client.WatchAsync(batchIds, Options(timeout), cancellation));

    private WatchOptions Options(TimeSpan? timeout) => new()
    {
        Timeout = timeout,
        // A bar nobody sees costs no database reads: then only the end is reported.
        Progress = ProgressPreferenceReader.Shows(cmdlet),
    };

    private IReadOnlyList<BatchInfo> Show(string activity, IAsyncEnumerable<BatchProgress> watch)
    {
        var record = new ProgressRecord(Math.Abs(activity.GetHashCode() % 10000) + 1, activity, "starting");
        BatchProgress? last = null;
        try
        {
            foreach (var progress in watch.ToBlockingEnumerable(cancellation))
            {
                last = progress;
                record.StatusDescription = $"{progress.DoneJobs}/{progress.TotalJobs} jobs done, {progress.RunningJobs} running, " +
                    $"{progress.FailedJobs} failed ({progress.Elapsed:hh\\:mm\\:ss} elapsed)";
                record.PercentComplete = progress.TotalJobs == 0 ? 100 : (int)(100L * progress.DoneJobs / progress.TotalJobs);
                cmdlet.WriteProgress(record);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Ctrl-C: to a cmdlet (Submit-Analysis -Wait says the run goes on) a stopped pipeline, as PowerShell's own waits end.
            throw new PipelineStoppedException();
        }
        finally
        {
            record.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(record);
        }
        return last!.Batches;
    }
}
