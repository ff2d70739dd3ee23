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
            var batch = Deployment.Batches.GetBatch(id);
            if (batch is null)
            {
                WriteError(ToErrorRecord(new AnalysisRunnerException("BatchNotFound", ErrorKind.ObjectNotFound, id,
                    $"There is no batch {id} in {Deployment.Home.Root}; Get-Batch lists the batches there.")));
                continue;
            }
            if (batch.IsComplete || !ShouldProcess($"batch {id} ({batch.Name})", "Cancel unfinished jobs")) continue;
            Deployment.Batches.RequestCancel(id);
            Deployment.Executor.Wake();
            if (PassThru) WriteObject(Deployment.Batches.GetBatch(id));
        }
    }
}
