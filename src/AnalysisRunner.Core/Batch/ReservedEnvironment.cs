namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Environment variables the runner sets for a run's jobs, so a job always knows its own run: a
/// submission (-Environment of Submit-Analysis or Add-BatchJob) may not set them, or a batch outside
/// any run could hand its jobs a capability or a config that is not theirs. Names must be plain
/// identifiers: in a process's environment "A=B" is variable A, so a name holding '=' would set
/// another variable (AR_RUN_TOKEN=…, AR_BATCH_ID=…) ahead of the runner's own.
/// </summary>
internal static partial class ReservedEnvironment
{
    public static IReadOnlyList<string> Names { get; } =
        [Runs.RunTokens.Variable, Runs.Channel.RunChannel.Variable, Runs.RunContext.ConfigPathVariable, Hosting.RunnerHome.EnvironmentVariable, "AR_BATCH_ID", "AR_JOB_ID", "AR_ATTEMPT"];

    public static void Check(IReadOnlyDictionary<string, string> environment, string where)
    {
        foreach (var (name, value) in environment)
        {
            // JSON (a batch sent over the run channel) can say null where the type says a string; a job's
            // environment is handed to the sandbox as NAME=VALUE, so a missing value is refused, not stored.
            if (value is null)
                throw new BatchValidationException("InvalidEnvironmentValue", ErrorKind.InvalidArgument, name,
                    $"{where} has no value for the environment variable '{name}' (null); give it a string, \"\" for empty.");
            if (!PlainName().IsMatch(name))
                throw new BatchValidationException("InvalidEnvironmentName", ErrorKind.InvalidArgument, name,
                    $"{where} has an environment variable named '{name}'; names are letters, digits and '_', not starting with a digit.");
            if (Names.Contains(name, StringComparer.Ordinal))
                throw new BatchValidationException("ReservedEnvironmentVariable", ErrorKind.InvalidArgument, name,
                    $"{where} may not set {name}: the runner sets it for each job, so a job always knows its own run.");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial System.Text.RegularExpressions.Regex PlainName();
}
