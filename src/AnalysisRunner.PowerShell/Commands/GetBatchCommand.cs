using System.Management.Automation;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Lists batches: by id, by the run (ar_guid) they belong to, or the newest ones.</summary>
[Cmdlet(VerbsCommon.Get, "Batch", DefaultParameterSetName = ListSet)]
[OutputType(typeof(BatchInfo))]
public sealed class GetBatchCommand : RunnerClientCmdlet
{
    private const string ListSet = "List";
    private const string IdSet = "Id";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [Alias("BatchId", "DriverBatchId")]
    public long[] Id { get; set; } = [];

    /// <summary>Every batch of one run: the driver batch and the batches its script submitted.</summary>
    [Parameter(ParameterSetName = ListSet)]
    [ValidateNotNullOrEmpty]
    public string? ArGuid { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    public BatchState? State { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    [ValidateRange(1, int.MaxValue)]
    public int First { get; set; } = 50;

    protected override void Process()
    {
        if (ParameterSetName == IdSet)
        {
            ForEachInput(Id, id => WriteObject(Await(Client.GetBatchAsync(id, PipelineStopped))));
            return;
        }
        var query = new BatchQuery { ArGuid = ArGuid, State = State, First = ArGuid is null ? First : null };
        WriteObject(Await(Client.FindBatchesAsync(query, PipelineStopped)), enumerateCollection: true);
    }
}
