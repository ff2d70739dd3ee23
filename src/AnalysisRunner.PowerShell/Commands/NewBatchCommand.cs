using System.Collections;
using System.Management.Automation;
using AnalysisRunner.Core.Batch.Building;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Starts a batch to fill with Add-BatchJob and send with Submit-Batch. Inside a run (CPG_CONFIG_PATH set,
/// as in a driver job) it belongs to that run: same ar_guid, author, repository and commit, resources in its tmp bucket.
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
        var run = RunContext.FromEnvironment(Deployment.ReadConfig);
        var tmpRoot = (run?.TmpBucket ?? Deployment.Buckets.Locate("local-tmp")).TrimEnd('/') + "/batch";
        var batch = new BatchBuilder(Name ?? (run?.ArGuid is null ? "batch" : $"batch of run {run.ArGuid}"), tmpRoot)
        {
            ArGuid = run?.ArGuid,
            ConfigPath = run?.ConfigPath,
            DefaultImage = run?.Image,
        };
        foreach (var (key, value) in run?.Attributes ?? new Dictionary<string, string>())
            batch.Attributes[key] = value;
        HashtableParameters.CopyInto(Attributes, batch.Attributes);
        WriteObject(batch);
    }
}
