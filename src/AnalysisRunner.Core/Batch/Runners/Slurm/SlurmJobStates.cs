using System.Globalization;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>Slurm's job states, read as the scheduler's outcomes: still held, or ended with an exit code, a stop reason or an error.</summary>
internal static class SlurmJobStates
{
    private static readonly HashSet<string> Ended = new(StringComparer.Ordinal)
    {
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY",
    };

    /// <summary>The base state: "CANCELLED by 0" and "CANCELLED+" are CANCELLED.</summary>
    public static string Base(string state)
    {
        var word = state.Trim().Split(' ', 2)[0];
        return word.TrimEnd('+').ToUpperInvariant();
    }

    public static bool HasEnded(string state) => Ended.Contains(Base(state));

    public static bool IsRunning(string state) => Base(state) is "RUNNING" or "COMPLETING";

    /// <summary>
    /// How an ended job's attempt ended. A stop the runner asked for wins (as on the local runner);
    /// a time limit is a Timeout; a lost node or a preemption without requeue interrupts it (run again,
    /// not the job's fault); a cancel by someone else or the memory limit fails it, naming why.
    /// </summary>
    public static (int? ExitCode, string? StopReason, string? Error) Outcome(SlurmJobStatus status, string? requestedStop)
    {
        var state = Base(status.State);
        if (requestedStop is not null) return (status.ExitCode, requestedStop, null);
        return state switch
        {
            "COMPLETED" => (status.ExitCode ?? 0, null, null),
            "FAILED" => (status.ExitCode ?? 1, null, null),
            "TIMEOUT" or "DEADLINE" => (status.ExitCode, StopReasons.Timeout, null),
            "NODE_FAIL" or "BOOT_FAIL" or "PREEMPTED" => (status.ExitCode, StopReasons.Interrupted, null),
            "OUT_OF_MEMORY" => (status.ExitCode, null, $"OutOfMemory: Slurm job {status.JobId} went over its --mem"),
            "CANCELLED" => (status.ExitCode, null, $"SlurmCancelled: Slurm job {status.JobId} was cancelled outside the runner ({status.State.Trim()})"),
            _ => (status.ExitCode, null, $"SlurmState: Slurm job {status.JobId} ended as {status.State.Trim()}"),
        };
    }

    /// <summary>
    /// A dependent Slurm cancelled before it ever ran because a parent can no longer satisfy it: squeue
    /// says so in its reason; where the reason is unknown (sacct), a cancel of a job never seen running.
    /// </summary>
    public static bool NeverSatisfied(SlurmJobStatus status, bool seenRunning) =>
        Base(status.State) == "CANCELLED"
        && (status.Reason is { } reason ? reason.Contains("DependencyNeverSatisfied", StringComparison.OrdinalIgnoreCase) : !seenRunning);

    /// <summary>squeue's exit_code is a wait status (768 = exit 3; 9 = killed by SIGKILL).</summary>
    public static int? FromWaitStatus(string text)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var status)) return null;
        var signal = status & 0x7f;
        return signal != 0 ? 128 + signal : (status >> 8) & 0xff;
    }

    /// <summary>sacct's ExitCode is "code:signal" (3:0 = exit 3; 0:9 = SIGKILL).</summary>
    public static int? FromCodeAndSignal(string text)
    {
        var parts = text.Trim().Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var code)
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var signal)) return null;
        return signal != 0 ? 128 + signal : code;
    }
}
