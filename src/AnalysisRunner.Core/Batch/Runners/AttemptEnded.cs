namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// How an attempt ended, as the runner saw it: the exit code (128+signal when killed; null when it
/// never started), the reason it was stopped (Timeout, Cancelled, Interrupted), or why it failed
/// around the process (StartFailed: …); Log is where its output is, final now; Usage is what the
/// process used, when the runner could measure it.
/// </summary>
internal sealed record AttemptEnded(AttemptKey Key, int? ExitCode, string? StopReason, string? Error, string? Log, ProcessUsage? Usage = null);

/// <summary>
/// What a runner found of one attempt after a restart: it Finished (with the exit status it
/// recorded) or is still Running (and can be adopted). Log is where its output is.
/// </summary>
internal sealed record RecoveredAttempt(AttemptKey Key, bool StillRunning, int? ExitCode, string? Log);

/// <summary>Why the scheduler stops an attempt; the runner reports the attempt's end with this reason.</summary>
internal static class StopReasons
{
    public const string Timeout = "Timeout";
    public const string Cancelled = "Cancelled";
    public const string Interrupted = "Interrupted";

    /// <summary>
    /// Started after its parents, it can never start: one of them failed, was cancelled or is being
    /// tried again. The scheduler does not count the attempt; the job waits again or is cancelled.
    /// </summary>
    public const string DependencyNeverSatisfied = "DependencyNeverSatisfied";
}
