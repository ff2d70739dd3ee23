using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The variables a job gets, wherever it runs: its own -Environment, then the runner's context —
/// AR_HOME, AR_BATCH_ID, AR_JOB_ID, AR_ATTEMPT, CPG_CONFIG_PATH, the run's capability AR_RUN_TOKEN
/// (for a batch the audit log says belongs to a run) and, on a cloud backend, its scope's key file — set last, so a job cannot claim another job's identity or another run's config.
/// The one place these are decided: the executor's launches and JobInfo.Environment both come from here.
/// </summary>
internal static class JobEnvironment
{
    public const string BatchVariable = "AR_BATCH_ID";
    public const string JobVariable = "AR_JOB_ID";
    public const string AttemptVariable = "AR_ATTEMPT";
    public const string ConfigVariable = "CPG_CONFIG_PATH";

    /// <summary>Names a job's own -Environment can never set.</summary>
    private static readonly string[] Reserved = ["OLDPWD"];

    /// <summary>The job's variables, its own first and the runner's context last; and what the runner must not pass on from its own.</summary>
    public static (List<KeyValuePair<string, string>> Variables, HashSet<string> Withheld) For(
        RunnerHome home, long batchId, int jobId, int attempt, string? configPath, string? cloudCredentials, bool cloud,
        IReadOnlyDictionary<string, string> own, string? verifiedRun = null)
    {
        var context = new List<KeyValuePair<string, string>>
        {
            new(RunnerHome.EnvironmentVariable, home.Root),
            new(BatchVariable, batchId.ToString(CultureInfo.InvariantCulture)),
            new(JobVariable, jobId.ToString(CultureInfo.InvariantCulture)),
            new(AttemptVariable, attempt.ToString(CultureInfo.InvariantCulture)),
        };
        if (configPath is not null) context.Add(new(ConfigVariable, configPath));
        // The run's capability, only for the jobs of a batch whose run ResourcePaths.ForBatch verified in the audit log.
        if (verifiedRun is not null) context.Add(new(Runs.RunTokens.Variable, Runs.RunTokens.Issue(home, verifiedRun)));
        // On a cloud backend a job holds its own scope's key and no other (never the runner's).
        if (cloudCredentials is not null) context.Add(new(JobStaging.CredentialsVariable, cloudCredentials));
        var withheld = new HashSet<string>(StringComparer.Ordinal);
        if (cloud) withheld.Add(JobStaging.CredentialsVariable);

        var variables = new List<KeyValuePair<string, string>>(own.Count + context.Count);
        foreach (var (name, value) in own)
            if (!Reserved.Contains(name) && !withheld.Contains(name) && !context.Exists(pair => pair.Key == name))
                variables.Add(new(name, value));
        variables.AddRange(context);
        return (variables, withheld);
    }
}
