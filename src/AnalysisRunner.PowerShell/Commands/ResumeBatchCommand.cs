using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Makes sure an executor is working on a batch: wakes the running one or starts one, which recovers
/// whatever a stopped or killed executor left behind. Returns the batch as it is now.
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "Batch")]
[OutputType(typeof(BatchInfo))]
public sealed class ResumeBatchCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("BatchId", "DriverBatchId")]
    public long[] Id { get; set; } = [];

    private bool woken;

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
            if (batch.State == BatchState.Running && !woken)
            {
                Deployment.Executor.Wake();
                woken = true;
            }
            WriteObject(batch);
        }
    }
}
