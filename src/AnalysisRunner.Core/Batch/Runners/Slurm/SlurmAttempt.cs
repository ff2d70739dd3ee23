namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// One attempt the Slurm runner is responsible for: its Slurm id once sbatch answered, the stop
/// asked for (the first reason wins), and what the watcher has seen of it. SlurmId, StopReason and
/// Ended change under the runner's lock; TimerStarted and Misses belong to the watcher thread.
/// </summary>
internal sealed class SlurmAttempt(AttemptKey key, string logStem, TimeSpan? timeout)
{
    public AttemptKey Key { get; } = key;
    public string LogStem { get; } = logStem;
    public TimeSpan? Timeout { get; } = timeout;
    public string? SlurmId { get; set; }
    public string? StopReason { get; set; }
    public bool Ended { get; set; }
    public bool TimerStarted { get; set; }

    /// <summary>Submitted with --dependency on parent attempts, so Slurm may cancel it before it ever runs.</summary>
    public bool AfterParents { get; init; }

    /// <summary>squeue has shown it RUNNING (a dependent cancelled before this was never started).</summary>
    public bool SeenRunning { get; set; }

    /// <summary>Its Slurm id once sbatch answered (or it was adopted); null when it never reached Slurm. Children submitted after it wait on this.</summary>
    public TaskCompletionSource<string?> Submitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Polls in a row in which squeue did not list it (it was purged, or the controller lost it).</summary>
    public int Misses { get; set; }
}
