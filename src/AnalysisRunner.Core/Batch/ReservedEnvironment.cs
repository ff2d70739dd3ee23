namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Environment variables the runner sets for a run's jobs, so a job always knows its own run: a
/// submission (-Environment of Submit-Analysis or Add-BatchJob) may not set them, or a batch outside
/// any run could hand its jobs a capability or a config that is not theirs.
/// </summary>
public static class ReservedEnvironment
{
    public static IReadOnlyList<string> Names { get; } =
        [Runs.RunTokens.Variable, Runs.RunContext.ConfigPathVariable, Hosting.RunnerHome.EnvironmentVariable, "AR_BATCH_ID", "AR_JOB_ID", "AR_ATTEMPT"];

    public static void Check(IReadOnlyDictionary<string, string> environment, string where)
    {
        foreach (var name in environment.Keys)
            if (Names.Contains(name, StringComparer.Ordinal))
                throw new BatchValidationException("ReservedEnvironmentVariable", ErrorKind.InvalidArgument, name,
                    $"{where} may not set {name}: the runner sets it for each job, so a job always knows its own run.");
    }
}
