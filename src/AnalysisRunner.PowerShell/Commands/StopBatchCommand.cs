using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Cancels what has not finished in a batch: running jobs get SIGTERM, then SIGKILL after a grace period.</summary>
[Cmdlet(VerbsLifecycle.Stop, "Batch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BatchInfo))]
public sealed class StopBatchCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("BatchId", "DriverBatchId")]
    public long[] Id { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        foreach (var id in Id)
        {
            BatchInfo batch;
            try
            {
                batch = Deployment.Batches.RequireBatch(id);
            }
            catch (AnalysisRunnerException missing)
            {
                WriteError(ToErrorRecord(missing));
                continue;
            }
            if (batch.IsComplete || !ShouldProcess($"batch {id} ({batch.Name})", "Cancel unfinished jobs")) continue;
            Deployment.Batches.RequestCancel(id);
            Deployment.Executor.Wake();
            if (PassThru) WriteObject(Deployment.Batches.GetBatch(id));
        }
    }
}
