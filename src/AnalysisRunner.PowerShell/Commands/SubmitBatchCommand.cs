using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Building;
using AnalysisRunner.Core.Client;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Checks a batch (cycles, unwritten resources, clashing outputs, impossible resources) and queues it.
/// Returns at once unless -Wait, which also writes an error if the batch fails.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "Batch", SupportsShouldProcess = true)]
[OutputType(typeof(BatchInfo))]
public sealed class SubmitBatchCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public BatchBuilder? Batch { get; set; }

    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Timeout { get; set; }

    protected override void Process()
    {
        var submitter = new BatchSubmitter(Deployment);
        var scope = Await(submitter.CurrentScopeAsync(PipelineStopped));
        BatchSubmitter.RefuseOutsideRunWhenServerChosen(RunnerTarget.Choose(null, RunnerHome, ClientSettings.ForCurrentUser()), scope);
        var spec = submitter.Prepare(Batch!, scope);
        if (!ShouldProcess($"batch '{spec.Name}' ({spec.Jobs.Count} jobs)", "Submit batch")) return;
        var id = Await(submitter.SubmitAsync(Batch!, spec, PipelineStopped));
        WriteHostLine(Web is { } web ? $"Submitted batch {id}, see {web.Batch(id)}" : $"Submitted batch {id}");
        var batch = Wait
            ? new PowerShell.BatchWaiter(this, Deployment, PipelineStopped).WaitFor([id], Timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null)[0]
            : Await(Deployment.Batches.GetBatchAsync(id, PipelineStopped));
        WriteObject(batch);
        if (Wait && batch is not null) WriteErrorsForUnsuccessful([batch]);
    }
}
