using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// The run a process belongs to, as its verified capability says (AR_RUN_TOKEN inside a job), so a
/// script's New-Batch needs no arguments: it inherits the run's ar_guid, config, tmp bucket and
/// attributes. CPG_CONFIG_PATH is the run's config for reading settings, never where a scope comes from.
/// </summary>
public sealed record RunContext(string ConfigPath, string ArGuid, string TmpBucket, IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>The run's driver image: what a job of the run that names no image runs in.</summary>
    public string? Image { get; init; }

    public const string ConfigPathVariable = "CPG_CONFIG_PATH";

    /// <summary>The context of a logged run (from RunTokens.VerifyAsync): its config, its dataset's tmp bucket at its level, its attributes.</summary>
    public static RunContext Of(RunRecord run, Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(deployment);
        // In a sandboxed job the executor says where the run's buckets are (its settings are hidden there).
        if (deployment.Channel?.Identity() is { } identity && identity.Run.ArGuid == run.ArGuid)
            return new RunContext(run.ConfigPath, run.ArGuid, identity.TmpBucket, identity.Attributes) { Image = run.Image };
        return new RunContext(run.ConfigPath, run.ArGuid, deployment.BucketsFor(run.Dataset, run.AccessLevel).Tmp, RunAuthority.RunAttributes(run))
        {
            Image = run.Image,
        };
    }
}
