using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>What the scheduler keeps of one job: its state, how many parents are still unfinished, its children.</summary>
internal sealed class JobNode
{
    public required BatchGraph Batch { get; init; }
    public required int JobId { get; init; }
    public JobState State { get; set; }
    public int Attempt { get; set; }
    public int MaxAttempts { get; init; }
    public bool Preemptible { get; init; }
    public bool AlwaysRun { get; init; }
    public double Cpu { get; init; }
    public long MemoryBytes { get; init; }
    public int RemainingParents { get; set; }
    public bool ParentFailed { get; set; }
    public int[] Parents { get; init; } = [];
    public int[] Children { get; set; } = [];

    /// <summary>Attempts that ended before they could run because a parent they were started after did not succeed (not the job's own tries).</summary>
    public int Withdrawn { get; set; }
    /// <summary>The attempt the runner has now (started, or publishing its outputs), if any.</summary>
    public InFlight? InFlight { get; set; }

    public AttemptKey Key => new(Batch.Id, JobId, Attempt);

    public bool AttemptsRemain => Attempt - Withdrawn < MaxAttempts;

    public bool MayRetryAfterInterruption => MayRetryInterrupted(Attempt - Withdrawn, MaxAttempts);

    /// <summary>
    /// At least this many attempts in all when attempts are cut off by the executor (stopped, killed,
    /// machine restarted) rather than by the job: an interruption is not the job's failure, so even a
    /// MaxAttempts 1 job is run again, but a job that keeps taking the executor down stops after this.
    /// </summary>
    public const int AttemptsAfterInterruption = 3;

    public static bool MayRetryInterrupted(int attempt, int maxAttempts) => attempt < Math.Max(maxAttempts, AttemptsAfterInterruption);
}

/// <summary>One unfinished batch in memory. Its spec (tmp root, inputs) is read only when a job starts.</summary>
internal sealed class BatchGraph
{
    public required long Id { get; init; }
    public required JobNode[] Jobs { get; init; }
    public bool CancelRequested { get; set; }
    public int Unfinished { get; set; }
    public bool AllSucceeded { get; set; } = true;
    public ResourcePaths? Paths { get; set; }
    public string? ConfigPath { get; set; }
    public string? Dataset { get; set; }
    public string? ArGuid { get; set; }
    public IReadOnlyList<string> InputFiles { get; set; } = [];
    public JobStaging? Staging { get; set; }

    public JobNode Job(int jobId) => Jobs[jobId - 1];

    public BatchState FinalState => AllSucceeded ? BatchState.Succeeded : CancelRequested ? BatchState.Cancelled : BatchState.Failed;
}

/// <summary>
/// Transitions decided together and written in one transaction, plus what becomes runnable once they land.
/// </summary>
internal sealed class TransitionSet
{
    public List<JobTransition> Jobs { get; } = [];
    public List<(long BatchId, BatchState State)> Batches { get; } = [];
    public List<AttemptChange> Attempts { get; } = [];
    public List<JobNode> NewlyReady { get; } = [];

    /// <summary>
    /// Pending jobs whose unfinished parents may all be with the runner now: a runner that starts a
    /// job after its parents (Slurm's --dependency) may be given them before the parents end.
    /// </summary>
    public List<JobNode> MayStartAfterParents { get; } = [];

    /// <summary>Jobs started after their parents whose parents will not all succeed as started (one failed, or is tried again): the runner must stop them.</summary>
    public List<JobNode> Orphaned { get; } = [];
    public List<BatchGraph> Completed { get; } = [];
}

/// <summary>
/// The DAG rules, in memory and free of I/O: a job is Ready when every parent has finished and none
/// failed; a failed or cancelled parent cancels its children at once unless they AlwaysRun, which wait
/// for every parent and then run whatever happened. A batch completes when its last job finishes.
/// A runner that can hold a job until its parents end (IJobRunner.StartsAfterParents) may be handed a
/// Pending job whose parents are all with it (MayStartAfterParents); the job is Running from then on,
/// and its attempt only counts once every parent has succeeded (or ended, for AlwaysRun): an attempt
/// that ends while a parent is unfinished or failed is withdrawn — the job waits again, or is cancelled
/// with its failed parent — and never counts against its attempts.
/// </summary>
internal static class JobGraph
{
    /// <summary>
    /// Why <paramref name="row"/>'s jobs cannot be a graph (ids not exactly 1..n in order, a parent
    /// outside the batch or the job itself), or null when Build can take them: a store that others can
    /// write may hold such rows, and Build would fail on them.
    /// </summary>
    public static string? Malformed(BatchRow row)
    {
        for (var i = 0; i < row.Jobs.Count; i++)
        {
            var job = row.Jobs[i];
            if (job.JobId != i + 1) return $"job {i + 1} is missing or out of order (found job {job.JobId})";
            foreach (var parent in job.Parents)
                if (parent < 1 || parent > row.Jobs.Count || parent == job.JobId) return $"job {job.JobId} names job {parent} as its parent";
        }
        return null;
    }

    public static BatchGraph Build(BatchRow row)
    {
        var jobs = new JobNode[row.Jobs.Count];
        var batch = new BatchGraph { Id = row.Id, Jobs = jobs, CancelRequested = row.CancelRequested };
        foreach (var job in row.Jobs)
            jobs[job.JobId - 1] = new JobNode
            {
                Batch = batch, JobId = job.JobId, State = job.State, Attempt = job.Attempt, MaxAttempts = job.MaxAttempts,
                Preemptible = job.Preemptible, AlwaysRun = job.AlwaysRun, Cpu = job.Cpu, MemoryBytes = job.MemoryBytes,
                Parents = job.Parents,
            };
        var children = new List<int>[jobs.Length];
        foreach (var job in row.Jobs)
        {
            var node = jobs[job.JobId - 1];
            if (!node.State.IsFinished()) batch.Unfinished++;
            else if (node.State != JobState.Succeeded) batch.AllSucceeded = false;
            foreach (var parentId in job.Parents)
            {
                (children[parentId - 1] ??= []).Add(job.JobId);
                var parent = jobs[parentId - 1];
                if (!parent.State.IsFinished()) node.RemainingParents++;
                else if (parent.State != JobState.Succeeded) node.ParentFailed = true;
            }
        }
        for (var i = 0; i < jobs.Length; i++) jobs[i].Children = children[i]?.ToArray() ?? [];
        return batch;
    }

    /// <summary>
    /// Brings a freshly loaded batch in line with the rules (a crash may have left children Pending
    /// behind a finished parent) and queues what is Ready. A Ready row is not taken on its word: its
    /// parents must have let it (the executor only ever writes Ready so), since a row in a database
    /// that others can reach may have been set Ready to run a job ahead of its gate; one that should
    /// not be is Pending again, and waits or is cancelled as its parents say.
    /// </summary>
    public static void Reconcile(BatchGraph batch, TransitionSet changes)
    {
        foreach (var job in batch.Jobs)
        {
            if (job.State == JobState.Ready && !WaitsOnParents(job)) changes.NewlyReady.Add(job);
            else if (job.State == JobState.Ready)
            {
                job.State = JobState.Pending;
                changes.Jobs.Add(new JobTransition(batch.Id, job.JobId, JobState.Pending, job.Attempt));
                Evaluate(job, changes);
            }
            else if (job.State == JobState.Pending) Evaluate(job, changes);
        }
        if (batch.Unfinished == 0) Complete(batch, changes);
    }

    /// <summary>Records that <paramref name="job"/> ended in <paramref name="state"/> and lets its children react.</summary>
    public static void Finish(JobNode job, JobState state, string? reason, int? exitCode, TransitionSet changes)
    {
        var work = new Stack<JobNode>();
        FinishOne(job, state, reason, exitCode, changes, work);
        while (work.Count > 0)
        {
            var child = work.Pop();
            if (child.State != JobState.Pending) continue;
            if (child.ParentFailed && !child.AlwaysRun)
                FinishOne(child, JobState.Cancelled, "ParentFailed", null, changes, work);
            else if (child.RemainingParents == 0)
                MakeReady(child, changes);
            else
                changes.MayStartAfterParents.Add(child);
        }
    }

    /// <summary>
    /// What an attempt's end means for its job: stopped by a cancel or timeout, interrupted (retried:
    /// not the job's fault), failed around its process, or its exit code — a preemptible job that
    /// failed is retried while it has attempts left.
    /// </summary>
    public static void Ended(JobNode job, int? exitCode, string? stopReason, string? error, TransitionSet changes)
    {
        // Started after its parents, which have not all succeeded by this record: whatever the runner
        // says of the attempt (Slurm cancelled it, or even ran it), it is not the job's outcome.
        if (stopReason == StopReasons.DependencyNeverSatisfied || (stopReason != StopReasons.Cancelled && WaitsOnParents(job)))
        {
            job.Withdrawn++;
            Retry(job, stopReason ?? error ?? StopReasons.DependencyNeverSatisfied, exitCode, changes);
            return;
        }
        switch (stopReason)
        {
            case StopReasons.Cancelled:
                Finish(job, JobState.Cancelled, StopReasons.Cancelled, exitCode, changes);
                break;
            case StopReasons.Timeout:
                Finish(job, JobState.Failed, StopReasons.Timeout, exitCode, changes);
                break;
            case StopReasons.Interrupted when job.MayRetryAfterInterruption:
                Retry(job, StopReasons.Interrupted, exitCode, changes);
                break;
            case StopReasons.Interrupted:
                Finish(job, JobState.Failed, StopReasons.Interrupted, exitCode, changes);
                break;
            default:
                if (error is not null)
                    Finish(job, JobState.Failed, error, exitCode, changes);
                else if (exitCode == 0)
                    Finish(job, JobState.Succeeded, null, exitCode, changes);
                else if (job.Preemptible && job.AttemptsRemain)
                    Retry(job, "Preempted", exitCode, changes);
                else
                    Finish(job, JobState.Failed, null, exitCode, changes);
                break;
        }
    }

    /// <summary>
    /// Another attempt: Ready, or Pending when its parents have not all ended (it was started after
    /// them), or Cancelled when one of them failed. Jobs started after this one's last attempt are
    /// orphaned: they depended on an attempt that is over.
    /// </summary>
    public static void Retry(JobNode job, string reason, int? exitCode, TransitionSet changes)
    {
        OrphanChildren(job, changes, alwaysRunToo: true);
        job.Attempt++;
        if (WaitsOnParents(job))
        {
            job.State = JobState.Pending;
            changes.Jobs.Add(new JobTransition(job.Batch.Id, job.JobId, JobState.Pending, job.Attempt, reason, exitCode, Retried: true));
            // Not offered to the runner again now: it is, once a parent starts again or ends.
            if (job.ParentFailed && !job.AlwaysRun) Finish(job, JobState.Cancelled, "ParentFailed", null, changes);
            return;
        }
        job.State = JobState.Ready;
        changes.Jobs.Add(new JobTransition(job.Batch.Id, job.JobId, JobState.Ready, job.Attempt, reason, exitCode, Retried: true));
        changes.NewlyReady.Add(job);
    }

    /// <summary>Cancels every job of the batch that has not started. Running jobs are the caller's to stop.</summary>
    public static void Cancel(BatchGraph batch, TransitionSet changes)
    {
        batch.CancelRequested = true;
        foreach (var job in batch.Jobs)
            if (job.State is JobState.Pending or JobState.Ready)
                Finish(job, JobState.Cancelled, "Cancelled", null, changes);
    }

    /// <summary>A job whose attempt cannot count yet: a parent is unfinished, or failed and the job does not AlwaysRun.</summary>
    public static bool WaitsOnParents(JobNode job) => job.RemainingParents > 0 || (job.ParentFailed && !job.AlwaysRun);

    private static void Evaluate(JobNode job, TransitionSet changes)
    {
        if (job.ParentFailed && !job.AlwaysRun) Finish(job, JobState.Cancelled, "ParentFailed", null, changes);
        else if (job.RemainingParents == 0) MakeReady(job, changes);
        else changes.MayStartAfterParents.Add(job);
    }

    private static void OrphanChildren(JobNode job, TransitionSet changes, bool alwaysRunToo)
    {
        foreach (var childId in job.Children)
        {
            var child = job.Batch.Job(childId);
            if (child.State == JobState.Running && (alwaysRunToo || !child.AlwaysRun)) changes.Orphaned.Add(child);
        }
    }

    private static void MakeReady(JobNode job, TransitionSet changes)
    {
        job.State = JobState.Ready;
        changes.Jobs.Add(new JobTransition(job.Batch.Id, job.JobId, JobState.Ready, job.Attempt));
        changes.NewlyReady.Add(job);
    }

    private static void FinishOne(JobNode job, JobState state, string? reason, int? exitCode, TransitionSet changes, Stack<JobNode> work)
    {
        if (job.State.IsFinished()) return;
        job.State = state;
        changes.Jobs.Add(new JobTransition(job.Batch.Id, job.JobId, state, job.Attempt, reason, exitCode));
        var batch = job.Batch;
        if (state != JobState.Succeeded)
        {
            batch.AllSucceeded = false;
            OrphanChildren(job, changes, alwaysRunToo: false);
        }
        foreach (var childId in job.Children)
        {
            var child = batch.Job(childId);
            child.RemainingParents--;
            if (state != JobState.Succeeded) child.ParentFailed = true;
            work.Push(child);
        }
        job.Children = [];
        if (--batch.Unfinished == 0) Complete(batch, changes);
    }

    private static void Complete(BatchGraph batch, TransitionSet changes)
    {
        changes.Batches.Add((batch.Id, batch.FinalState));
        changes.Completed.Add(batch);
    }
}
