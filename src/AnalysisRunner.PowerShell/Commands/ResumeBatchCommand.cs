using System.Management.Automation;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Makes sure an executor is working on a batch: wakes the running one or starts one, which recovers
/// whatever a stopped or killed executor left behind. Returns the batch as it is now.
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "Batch")]
[OutputType(typeof(BatchInfo))]
public sealed class ResumeBatchCommand : RunnerClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("BatchId", "DriverBatchId")]
    public long[] Id { get; set; } = [];

    protected override void Process() => ForEachInput(Id, id => WriteObject(Await(Client.ResumeBatchAsync(id, PipelineStopped))));
}
