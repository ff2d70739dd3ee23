using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Opens the analysis-runner log page of a dataset in the default browser: the test namespace for
/// -AccessLevel test, main for standard and full. A run from Get-AnalysisLog or Submit-Analysis binds both.
/// </summary>
[Cmdlet(VerbsCommon.Show, "AnalysisLog")]
[OutputType(typeof(string))]
public sealed class ShowAnalysisLogCommand : ShowPageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatasetCompleter))]
    [ValidateNotNullOrEmpty]
    public string Dataset { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("test", "standard", "full")]
    public string AccessLevel { get; set; } = "test";

    protected override void Process() =>
        ShowPage(RequireWeb().AuditLog(Dataset, AccessLevelNames.Parse(AccessLevel.ToLowerInvariant())));
}
