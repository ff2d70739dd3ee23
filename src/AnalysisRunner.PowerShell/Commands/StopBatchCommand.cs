using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Cancels what has not finished in a batch, or in a whole run (its driver batch and every batch
/// the driver submitted): running jobs get SIGTERM, then SIGKILL after a grace period. A server's run
/// whose driver batch is still to be created is marked so it never is, and the cmdlet says so.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "Batch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RunSet)]
[OutputType(typeof(BatchInfo))]
public sealed class StopBatchCommand : RunnerClientCmdlet
{
    private const string IdSet = "Id";
    private const string RunSet = "Run";
    private const string ArGuidSet = "ArGuid";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [Alias("BatchId")]
    public long[] Id { get; set; } = [];

    /// <summary>A run from Submit-Analysis or Get-AnalysisLog: its driver batch and all its sub-batches.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = RunSet)]
    public RunRecord? Run { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ArGuidSet)]
    [ValidateNotNullOrEmpty]
    public string? ArGuid { get; set; }

    /// <summary>Waits until the cancel has been carried out, then writes each batch as it ended.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        if (ParameterSetName == IdSet)
        {
            ForEachInput(Id, id =>
            {
                var batch = Await(Client.GetBatchAsync(id, PipelineStopped));
                if (batch.IsComplete || !ShouldProcess($"batch {id} ({batch.Name})", "Cancel unfinished jobs")) return;
                Await(Client.CancelBatchAsync(id, PipelineStopped));
                Show([id]);
            });
            return;
        }
        var arGuid = Run?.ArGuid ?? ArGuid!;
        if (!ShouldProcess($"run {arGuid} (its driver batch and every batch it submitted)", "Cancel unfinished jobs")) return;
        var cancelled = Await(Client.CancelRunAsync(arGuid, PipelineStopped));
        // A server's run answered before its driver batch existed: there is nothing to stop yet, and there never will be.
        if (cancelled.DriverBatchWithheld)
            WriteHostLine($"Run {arGuid} had no driver batch yet; it is cancelled and its driver batch will not be created.");
        Show(cancelled.BatchIds);
    }

    /// <summary>With -PassThru, the batches once the executor has stopped them (a cancel asked for is not yet a cancel done).</summary>
    private void Show(IReadOnlyList<long> ids)
    {
        if (PassThru) WriteObject(new BatchWaiter(this, Client, PipelineStopped).WaitFor(ids, timeout: null), enumerateCollection: true);
    }
}
