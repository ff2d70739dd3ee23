namespace AnalysisRunner.Core.Batch;

public enum JobState
{
    Pending,
    Ready,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

public enum BatchState
{
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

public static class JobStates
{
    public static bool IsFinished(this JobState state) =>
        state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}

/// <summary>A batch as the store sees it now.</summary>
public sealed record BatchInfo
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public string? ArGuid { get; init; }
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
    public required BatchState State { get; init; }
    public required int TotalJobs { get; init; }
    public int PendingJobs { get; init; }
    public int RunningJobs { get; init; }
    public int SucceededJobs { get; init; }
    public int FailedJobs { get; init; }
    public int CancelledJobs { get; init; }
    public bool CancelRequested { get; init; }
    public required DateTimeOffset Created { get; init; }
    public DateTimeOffset? Completed { get; init; }
    public string? ConfigPath { get; init; }

    /// <summary>The batch's web page, when a web address is configured (WebAddress); null otherwise.</summary>
    public string? Url { get; init; }

    /// <summary>The batch row's state, which the executor writes with its last job's end; not the job counts, which can be ahead of it after a recovery.</summary>
    public bool IsComplete => State != BatchState.Running;
}

/// <summary>A job as the store sees it now; Command is what it runs, placeholders resolved (a driver's: with the steps the runner takes first).</summary>
public sealed record JobInfo
{
    public required long BatchId { get; init; }
    public required int JobId { get; init; }
    public required string Name { get; init; }
    public required JobState State { get; init; }
    public int? ExitCode { get; init; }
    public int Attempt { get; init; }
    public DateTimeOffset? Started { get; init; }
    public DateTimeOffset? Ended { get; init; }
    public required string Command { get; init; }
    public double Cpu { get; init; }
    public long MemoryBytes { get; init; }
    public string? Image { get; init; }
    public bool AlwaysRun { get; init; }
    public IReadOnlyList<int> Parents { get; init; } = [];
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
    /// <summary>Why a job ended as it did when the exit code does not say (Timeout, Cancelled, ParentFailed, Interrupted).</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// The variables the runner gives the job on top of what it inherits: its own -Environment, then
    /// AR_HOME, AR_BATCH_ID, AR_JOB_ID, AR_ATTEMPT (its latest attempt) and the run's CPG_CONFIG_PATH.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>What the job's latest attempt used, as the runner measured it (CPU user+system, peak resident memory, wall time); null while it runs or where it could not be measured.</summary>
    public double? CpuSeconds { get; init; }
    public long? PeakMemoryBytes { get; init; }
    public double? WallSeconds { get; init; }

    /// <summary>The job's web page, when a web address is configured (WebAddress); null otherwise.</summary>
    public string? Url { get; init; }
}

/// <summary>
/// One attempt of a job: when it started and ended, its exit code (null while it runs, or when it was
/// cut off or never started) and why it ended when the code does not say. Its output is read through
/// the runner (Get-BatchJobLog -Attempt), which alone knows where it is.
/// </summary>
public sealed record JobAttempt(long BatchId, int JobId, int Attempt)
{
    public int? ExitCode { get; init; }
    public DateTimeOffset? Started { get; init; }
    public DateTimeOffset? Ended { get; init; }
    public string? Reason { get; init; }

    /// <summary>What the attempt's process used (CPU user+system, peak resident memory, wall time), as the runner measured it; null where it could not.</summary>
    public double? CpuSeconds { get; init; }
    public long? PeakMemoryBytes { get; init; }
    public double? WallSeconds { get; init; }

    /// <summary>Where the runner said its output is, in the runner's own terms.</summary>
    internal string? RunnerLog { get; init; }
}
