using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using JobState = AnalysisRunner.Core.Batch.JobState;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Lists the jobs of a batch: id, name, state, exit code, times and the command with resources resolved.</summary>
[Cmdlet(VerbsCommon.Get, "BatchJob")]
[OutputType(typeof(JobInfo))]
public sealed class GetBatchJobCommand : RunnerClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "DriverBatchId")]
    public long BatchId { get; set; }

    [Parameter(Position = 1)]
    public int[]? JobId { get; set; }

    /// <summary>Only jobs whose name matches (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    public string? Name { get; set; }

    [Parameter]
    public JobState[]? State { get; set; }

    protected override void Process()
    {
        var pattern = Name is null ? null : new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        foreach (var job in Await(Client.GetJobsAsync(BatchId, PipelineStopped)))
        {
            if (JobId is not null && !JobId.Contains(job.JobId)) continue;
            if (pattern is not null && !pattern.IsMatch(job.Name)) continue;
            if (State is not null && !State.Contains(job.State)) continue;
            WriteObject(job);
        }
    }
}
