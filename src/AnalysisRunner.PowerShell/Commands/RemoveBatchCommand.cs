using System.Management.Automation;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Deletes finished batches: their records, job logs and work folders. Resources in the tmp bucket stay.</summary>
[Cmdlet(VerbsCommon.Remove, "Batch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveBatchCommand : RunnerClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("BatchId")]
    public long[] Id { get; set; } = [];

    protected override void Process()
    {
        ForEachInput(Id, id =>
        {
            var batch = Await(Client.GetBatchAsync(id, PipelineStopped));
            if (ShouldProcess($"batch {id} ({batch.Name}, {batch.State}, {batch.TotalJobs} job(s))", "Remove records, logs and work files"))
                Await(Client.RemoveBatchAsync(id, PipelineStopped));
        });
    }
}
