using System.Collections;
using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Building;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Starts a batch to fill with Add-BatchJob and send with Submit-Batch. Inside a run's job (its
/// capability AR_RUN_TOKEN, as in a driver job) it belongs to that run: same ar_guid, author,
/// repository and commit, resources in its tmp bucket. -Attributes cannot change whose batch it is.
/// </summary>
[Cmdlet(VerbsCommon.New, "Batch")]
[OutputType(typeof(BatchBuilder))]
public sealed class NewBatchCommand : AnalysisRunnerCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Extra batch attributes (labels); the run's own attributes are always set.</summary>
    [Parameter]
    public Hashtable? Attributes { get; set; }

    protected override void Process()
    {
        var submitter = new BatchSubmitter(Deployment);
        var scope = Await(submitter.CurrentScopeAsync(PipelineStopped));
        var run = scope.Run is { } logged ? RunContext.Of(logged, Deployment) : null;
        var tmpRoot = (run?.TmpBucket ?? Deployment.Buckets.Locate(Core.Policy.BatchScopeRule.OutsideRunTmpBucket)).TrimEnd('/') + "/batch";
        var batch = new BatchBuilder(Name ?? (run is null ? "batch" : $"batch of run {run.ArGuid}"), tmpRoot)
        {
            ArGuid = run?.ArGuid,
            ConfigPath = run?.ConfigPath,
            DefaultImage = run?.Image,
        };
        var requested = new Dictionary<string, string>(run?.Attributes ?? new Dictionary<string, string>());
        HashtableParameters.CopyInto(Attributes, requested);
        // Refused here already (Submit-Batch checks again): a batch's scope is never its attributes' to say.
        foreach (var (key, value) in BatchSubmitter.CheckAttributes(requested, scope))
            batch.Attributes[key] = value;
        WriteObject(batch);
    }
}
