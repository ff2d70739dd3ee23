using System.Management.Automation;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Opens a batch's web page (or, given a job, the job's) in the default browser: from ids, or from
/// what Get-Batch, Get-BatchJob, Submit-Analysis and Get-AnalysisLog return (a run opens its driver batch).
/// </summary>
[Cmdlet(VerbsCommon.Show, "Batch")]
[OutputType(typeof(string))]
public sealed class ShowBatchCommand : ShowPageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("BatchId", "DriverBatchId")]
    public long[] Id { get; set; } = [];

    /// <summary>A job of the batch: its page has the full command and each attempt's log.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public int? JobId { get; set; }

    protected override void Process()
    {
        var web = RequireWeb();
        ForEachInput(Id, id => ShowPage(JobId is { } job ? web.Job(id, job) : web.Batch(id)));
    }
}
