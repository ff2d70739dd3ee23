using System.Management.Automation;
using AnalysisRunner.Core.Usage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// A dataset's usage (jobs, CPU-seconds, memory GiB-seconds, wall seconds) by day, user or batch, for
/// the runs submitted since a day: the query the usage page shows. Reads what Get-AnalysisLog reads.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AnalysisUsage")]
[OutputType(typeof(UsageRow))]
public sealed class GetAnalysisUsageCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatasetCompleter))]
    [ValidateNotNullOrEmpty]
    public string Dataset { get; set; } = "";

    /// <summary>The first day counted (UTC): runs submitted from then on. Defaults to 30 days ago, as the usage page does.</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    [Parameter]
    public UsageGrouping By { get; set; } = UsageGrouping.Day;

    protected override void Process()
    {
        var since = Since is { } day ? DateOnly.FromDateTime(day.ToUniversalTime()) : DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-30);
        var rows = Await(new DatasetUsage(Deployment.RunLog, Deployment.Batches).QueryAsync(Dataset, since, By, _ => true, PipelineStopped));
        // As Get-AnalysisLog: nothing, for a dataset the registry does not know, is a typo rather than no usage.
        if (rows.Count == 0 && Deployment.LoadRegistry() is var registry && registry.Find(Dataset) is null)
            throw registry.NotFound(Dataset);
        WriteObject(rows, enumerateCollection: true);
    }
}
