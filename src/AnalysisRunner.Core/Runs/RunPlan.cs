using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// Everything a submission would do, worked out with nothing written: the run, each policy check,
/// the merged config and the driver job. -WhatIf shows it; Submit carries it out.
/// </summary>
public sealed record RunPlan
{
    public required RunRecord Run { get; init; }
    public required IReadOnlyList<PolicyCheck> Checks { get; init; }

    /// <summary>The first refusal, if any: a plan with a refusal is never submitted.</summary>
    public AnalysisRunnerException? Refusal { get; init; }
    public required string ConfigToml { get; init; }
    public required BatchSpec DriverBatch { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>HEAD is not on any origin branch: the driver could not clone it from the real remote.</summary>
    public bool CommitMissingFromOrigin { get; init; }

    public string DriverCommand => string.Join("\n", DriverBatch.Jobs[0].Commands);
}
