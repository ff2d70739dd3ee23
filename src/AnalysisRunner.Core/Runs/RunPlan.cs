using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// Everything a submission would do, worked out by the authority with nothing written: the run, each
/// policy check, the merged config and the driver job. -WhatIf shows it; RunAuthority.SubmitAsync
/// carries it out. Only the authority makes plans (the setters are internal), so a host never submits
/// a plan a client handed it: a server plans from the client's facts itself.
/// </summary>
public sealed record RunPlan
{
    public RunRecord Run { get; internal init; } = null!;
    public IReadOnlyList<PolicyCheck> Checks { get; internal init; } = [];

    /// <summary>The first refusal, if any: a plan with a refusal is never submitted.</summary>
    public AnalysisRunnerException? Refusal { get; internal init; }
    public string ConfigToml { get; internal init; } = "";
    public BatchSpec DriverBatch { get; internal init; } = null!;
    public IReadOnlyList<string> Warnings { get; internal init; } = [];

    /// <summary>The client's refs say origin does not have the commit: the client asks before submitting.</summary>
    public bool CommitMissingFromOrigin { get; internal init; }

    /// <summary>The facts the plan was made from: what a client sends again to submit it (a server never takes a plan).</summary>
    public SubmissionFacts Facts { get; internal init; } = null!;

    public string DriverCommand => string.Join("\n", DriverBatch.Jobs[0].Commands);
}
