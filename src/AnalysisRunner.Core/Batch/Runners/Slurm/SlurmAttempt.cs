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

    /// <summary>Polls in a row in which squeue did not list it (it was purged, or the controller lost it).</summary>
    public int Misses { get; set; }
}
