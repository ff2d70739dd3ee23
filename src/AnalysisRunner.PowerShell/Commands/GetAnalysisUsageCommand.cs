using System.Management.Automation;
using AnalysisRunner.Core.Usage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// A dataset's usage (jobs, CPU-seconds, memory GiB-seconds, wall seconds) by day, user or batch, for
/// the runs submitted since a day: the query the usage page shows. In-process it reads what
/// Get-AnalysisLog reads; against a server (-Server, AR_SERVER) the namespaces the caller may read.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AnalysisUsage")]
[OutputType(typeof(UsageRow))]
public sealed class GetAnalysisUsageCommand : RunnerClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatasetCompleter))]
    [ValidateNotNullOrEmpty]
    public string Dataset { get; set; } = "";

    /// <summary>The first day counted (UTC): runs submitted from then on. Defaults to 30 days ago, as the usage page does; at most UsageWindow.MaxDays back (366, or the server's [usage] max_days).</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    [Parameter]
    public UsageGrouping By { get; set; } = UsageGrouping.Day;

    protected override void Process()
    {
        var since = Since is { } day ? DateOnly.FromDateTime(day.ToUniversalTime()) : DatasetUsage.DefaultSince();
        WriteObject(Await(Client.GetUsageAsync(Dataset, since, By, PipelineStopped)), enumerateCollection: true);
    }
}
