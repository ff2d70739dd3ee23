using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Cancels what has not finished in a batch, or in a whole run (its driver batch and every batch
/// the driver submitted): running jobs get SIGTERM, then SIGKILL after a grace period.
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
        Show(Await(Client.CancelRunAsync(arGuid, PipelineStopped)));
    }

    /// <summary>With -PassThru, the batches once the executor has stopped them (a cancel asked for is not yet a cancel done).</summary>
    private void Show(IReadOnlyList<long> ids)
    {
        if (PassThru) WriteObject(new BatchWaiter(this, Client, PipelineStopped).WaitFor(ids, timeout: null), enumerateCollection: true);
    }
}
