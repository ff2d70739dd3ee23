using System.Globalization;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>How the local executor behaves; FromEnvironment reads the AR_EXECUTOR_* overrides.</summary>
public sealed record ExecutorOptions
{
    public const string IdleVariable = "AR_EXECUTOR_IDLE_SECONDS";
    public const string KillGraceVariable = "AR_EXECUTOR_KILL_GRACE_SECONDS";

    /// <summary>With nothing running or waiting for this long, the executor exits (the next Wake starts another).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Between SIGTERM and SIGKILL when a job times out or is cancelled.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The AR_EXECUTOR_* variables, else the defaults.</summary>
    public static ExecutorOptions FromEnvironment() => new()
    {
        IdleTimeout = Seconds(IdleVariable) ?? TimeSpan.FromSeconds(30),
        KillGrace = Seconds(KillGraceVariable) ?? TimeSpan.FromSeconds(5),
    };

    private static TimeSpan? Seconds(string variable) =>
        double.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
