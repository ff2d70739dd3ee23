using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Waits for batches to finish; given a run, for its driver batch and every batch the driver submitted.
/// Writes the batches, then an error for each one that failed or was cancelled.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "Batch", DefaultParameterSetName = RunSet)]
[OutputType(typeof(BatchInfo))]
public sealed class WaitBatchCommand : RunnerClientCmdlet
{
    private const string IdSet = "Id";
    private const string RunSet = "Run";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [Alias("BatchId")]
    public long[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = RunSet)]
    public RunRecord? Run { get; set; }

    /// <summary>Seconds to wait before giving up (the batch goes on running).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Timeout { get; set; }

    protected override void Process()
    {
        var waiter = new BatchWaiter(this, Client, PipelineStopped);
        var limit = Timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var batches = Run is not null ? waiter.WaitForRun(Run, limit) : waiter.WaitFor(Id, limit);
        WriteObject(batches, enumerateCollection: true);
        WriteFailuresOf(batches);
    }
}
