using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// After a restart, before anything runs: what the runner recorded of each job's attempts (exit
/// statuses, live processes) is the truth for every job it has a record of, whatever the store
/// shows — a store that lost its last commits never makes a finished job run again, and attempt
/// numbers go on from the runner's record. A job the store shows finished stays finished (an end is
/// the last thing written about a job). A job the store shows Running that the runner knows nothing
/// of was cut off: it runs again as a new attempt (Interrupted).
/// </summary>
internal sealed class Recovery(IJobRunner runner, AttemptPlanner planner, OutputCopier outputs, TextWriter log)
{
    /// <summary>An attempt still running, to be adopted once its batch is in the scheduler's hands.</summary>
    public sealed record Survivor(JobNode Node, AttemptPlan Plan, RecoveredAttempt Attempt);

    public async Task<List<Survivor>> ApplyAsync(IReadOnlyCollection<BatchGraph> batches, TransitionSet changes)
    {
        var survivors = new List<Survivor>();
        if (batches.Count == 0) return survivors;
        var datasets = new Dictionary<long, string?>();
        foreach (var batch in batches) datasets.Add(batch.Id, await DatasetOfAsync(batch));
        var recorded = runner.Recover(datasets)
            .GroupBy(attempt => (attempt.Key.BatchId, attempt.Key.JobId))
            .ToDictionary(group => group.Key, group => group.OrderBy(attempt => attempt.Key.Attempt).ToList());
        foreach (var batch in batches)
            foreach (var job in batch.Jobs)
            {
                var attempts = recorded.GetValueOrDefault((batch.Id, job.JobId)) ?? [];
                // Earlier attempts the store may not have rows for (its commits were lost): filled in, never overwritten.
                foreach (var earlier in attempts.Take(attempts.Count - 1))
                    changes.Attempts.Add(new AttemptChange(earlier.Key, Started: false, earlier.Log, earlier.ExitCode,
                        earlier.ExitCode is null ? StopReasons.Interrupted : null) { FillInOnly = true });
                if (job.State.IsFinished()) continue;
                var latest = attempts.Count > 0 ? attempts[^1] : null;
                // A live attempt below the row's number is still the job's: an attempt starts only after
                // the one before it ended, so only a row written past the store is ahead of a live one, and
                // leaving that attempt unadopted would run the job twice at once.
                if (latest is null || (latest.Key.Attempt < job.Attempt && !latest.StillRunning))
                {
                    if (job.State == JobState.Running) await ConcludeAsync(job, null, null);
                    continue;
                }
                job.Attempt = latest.Key.Attempt;
                if (latest.StillRunning)
                {
                    if (job.State != JobState.Running)
                    {
                        job.State = JobState.Running;
                        changes.Jobs.Add(new JobTransition(batch.Id, job.JobId, JobState.Running, job.Attempt));
                        changes.Attempts.Add(new AttemptChange(latest.Key, Started: true, latest.Log));
                    }
                    var (plan, why) = await TryPlanAsync(job);
                    if (plan is not null) survivors.Add(new Survivor(job, plan, latest));
                    else await ConcludeAsync(job, null, why, latest.Log);
                    continue;
                }
                await ConcludeAsync(job, latest.ExitCode, null, latest.Log);
            }
        return survivors;

        async Task ConcludeAsync(JobNode job, int? exitCode, string? error, string? attemptLog = null)
        {
            if (exitCode == 0 && error is null)
            {
                var (plan, why) = await TryPlanAsync(job);
                error = plan is not null ? outputs.Publish(plan) : why;
            }
            var stop = exitCode is null && error is null ? StopReasons.Interrupted : null;
            changes.Attempts.Add(new AttemptChange(job.Key, Started: false, attemptLog, exitCode, stop ?? error));
            JobGraph.Ended(job, exitCode, stop, error, changes);
            log.WriteLine($"recovery: {job.Key} → {job.State} ({stop ?? error ?? "exit " + exitCode})");
        }
    }

    /// <summary>
    /// The batch's verified run's dataset, which picks its runner, as the scheduler routes its attempts
    /// (never the batch's attributes). A batch whose scope cannot be derived has none: its jobs fail to
    /// start anyway.
    /// </summary>
    private async Task<string?> DatasetOfAsync(BatchGraph batch)
    {
        try
        {
            await planner.PathsAsync(batch);
            return batch.Dataset;
        }
        catch (Exception e) when (BatchScheduler.IsStartFailure(e))
        {
            return null;
        }
    }

    /// <summary>The job's attempt planned, or why it cannot start (its StartFailed reason).</summary>
    private async Task<(AttemptPlan? Plan, string? Why)> TryPlanAsync(JobNode job)
    {
        try
        {
            return (await planner.PlanAsync(job, job.Attempt), null);
        }
        catch (Exception e) when (BatchScheduler.IsStartFailure(e))
        {
            return (null, "StartFailed: " + e.Message);
        }
    }
}
