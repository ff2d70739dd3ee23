namespace AnalysisRunner.Core.Batch;

/// <summary>How a job ended, in the words the job table, Get-BatchJobLog and the wait errors use.</summary>
public static class JobOutcome
{
    /// <summary>
    /// Why a failed or cancelled job ended: its reason (Timeout, ParentFailed, Interrupted,
    /// "StartFailed: …") or "exit N". Null for a job that succeeded or has not ended.
    /// </summary>
    public static string? Why(JobInfo job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.State is not (JobState.Failed or JobState.Cancelled)) return null;
        return job.Reason ?? (job.ExitCode is { } code ? $"exit {code}" : null);
    }

    /// <summary>
    /// The line Get-BatchJobLog ends a failed or cancelled job's log with, so why it ended is where its
    /// output is; for a job that never started it is the whole log. Null for any other job.
    /// </summary>
    public static string? LogLine(JobInfo job) =>
        Why(job) is { } why
            ? $"[analysis-runner] job {job.BatchId}/{job.JobId} '{job.Name}' {(job.State == JobState.Cancelled ? "cancelled" : "failed")}: {why}"
            : null;

    /// <summary>The state with the first word of <see cref="Why"/>, as a table shows it: "Failed (exit 3)", "Failed (StartFailed)".</summary>
    public static string State(JobInfo job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var why = Why(job)?.Split(':', 2)[0];
        return why is null || why == job.State.ToString() ? job.State.ToString() : $"{job.State} ({why})";
    }
}

/// <summary>
/// What a finished batch that did not succeed reports when a client waited for it: BatchFailed
/// (naming the jobs that failed and why) or BatchCancelled, with the batch as the target, so the
/// error can be piped on (Get-BatchJob, Get-BatchJobLog).
/// </summary>
public static class BatchOutcome
{
    private const int JobsNamed = 3;

    /// <summary>Null for a batch that succeeded or is still running.</summary>
    public static async Task<AnalysisRunnerException?> FailureAsync(IBatchStore store, BatchInfo batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(batch);
        return Failure(batch, batch.State == BatchState.Failed ? await store.GetJobsAsync(batch.Id, cancellationToken).ConfigureAwait(false) : []);
    }

    /// <summary>The same, from the batch's jobs as a client read them (only a failed batch's are looked at).</summary>
    public static AnalysisRunnerException? Failure(BatchInfo batch, IReadOnlyList<JobInfo> jobs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(jobs);
        var run = batch.ArGuid is null ? "" : $"Run {batch.ArGuid}: ";
        switch (batch.State)
        {
            case BatchState.Failed:
                // The jobs that failed themselves, not those cancelled because a parent failed.
                var failed = jobs.Where(job => job.State == JobState.Failed).ToList();
                var named = string.Join("; ", failed.Take(JobsNamed).Select(job => $"job {job.JobId} '{job.Name}' ({JobOutcome.Why(job) ?? "failed"})"));
                var more = failed.Count > JobsNamed ? $" and {failed.Count - JobsNamed} more" : "";
                var first = failed.FirstOrDefault();
                var hint = first is null ? "" : $" Get-BatchJobLog -BatchId {batch.Id} -JobId {first.JobId} shows its log.";
                return new AnalysisRunnerException("BatchFailed", ErrorKind.InvalidResult, batch,
                    $"{run}batch {batch.Id} '{batch.Name}' failed: {(failed.Count == 0 ? "a job failed" : named + more)}.{hint}");
            case BatchState.Cancelled:
                var unfinished = batch.TotalJobs - batch.SucceededJobs - batch.FailedJobs;
                return new AnalysisRunnerException("BatchCancelled", ErrorKind.OperationStopped, batch,
                    $"{run}batch {batch.Id} '{batch.Name}' was cancelled with {unfinished} of {batch.TotalJobs} job(s) not run to the end.");
            default:
                return null;
        }
    }
}
