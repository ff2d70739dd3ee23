namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// What Slurm says when the controller is busy or briefly away, as opposed to a refusal of the job.
/// Only these are worth another sbatch: an unknown account, a partition that does not exist or a job
/// larger than any node says something else, and asking again would only say it again.
/// </summary>
internal static class SlurmTransientErrors
{
    public const string ErrorId = "SlurmSubmitUnavailable";

    private static readonly string[] Phrases =
    [
        "Socket timed out",
        "Resource temporarily unavailable",
        "Unable to contact slurm controller",
        "slurm controller not responding",
        "slurmctld not responding",
        "Zero Bytes were transmitted or received",
        "Transport endpoint is not connected",
    ];

    public static bool IsTransient(string message) =>
        Phrases.Any(phrase => message.Contains(phrase, StringComparison.OrdinalIgnoreCase));

    /// <summary>How long to wait before try <paramref name="retry"/> (1-based): doubling from <paramref name="first"/>, at most 30 s.</summary>
    public static TimeSpan Delay(TimeSpan first, int retry) =>
        TimeSpan.FromTicks(Math.Min(first.Ticks * (1L << Math.Min(retry - 1, 16)), TimeSpan.FromSeconds(30).Ticks));
}
