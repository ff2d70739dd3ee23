using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Reads the audit log of accepted runs, newest first. Each entry can be piped to Submit-Analysis to run it again.</summary>
[Cmdlet(VerbsCommon.Get, "AnalysisLog")]
[OutputType(typeof(RunRecord))]
public sealed class GetAnalysisLogCommand : RunnerClientCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(DatasetCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Dataset { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    /// <summary>Only runs at this access level.</summary>
    [Parameter]
    [ValidateSet("test", "standard", "full", IgnoreCase = true)]
    public string? AccessLevel { get; set; }

    /// <summary>Only runs submitted after this time.</summary>
    [Parameter]
    public DateTime? After { get; set; }

    [Parameter]
    public DateTime? Before { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ArGuid { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    protected override void Process()
    {
        var query = new LogQuery
        {
            Dataset = Dataset,
            User = User,
            AccessLevel = AccessLevel is null ? null : AccessLevelNames.Parse(AccessLevel),
            After = After is { } after ? new DateTimeOffset(after.ToUniversalTime(), TimeSpan.Zero) : null,
            Before = Before is { } before ? new DateTimeOffset(before.ToUniversalTime(), TimeSpan.Zero) : null,
            ArGuid = ArGuid,
        };
        // Page by page (keyset), so neither transport ever holds the whole log.
        var remaining = First ?? int.MaxValue;
        string? cursor = null;
        do
        {
            var page = Await(Client.QueryAuditLogAsync(query with { First = Math.Min(remaining, AuditLogPaging.LargestPageSize) }, cursor, PipelineStopped));
            foreach (var run in page.Runs)
            {
                if (Stopping) return;
                WriteObject(run);
            }
            remaining -= page.Runs.Count;
            cursor = page.NextCursor;
        } while (cursor is not null && remaining > 0);
    }
}
