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
                WriteError(ToErrorRecord(BatchStoreExtensions.NotFound(id)));
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
